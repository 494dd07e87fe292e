//! A password typed at the terminal. Echo goes off *before* the prompt is shown: a prompt
//! printed first (as `rpassword` does) leaves a moment in which a quick typist or a paste
//! is echoed in clear. The terminal is restored on every way out, Ctrl-C included (it is
//! read as a key, not delivered as a signal that would end the process with echo off).

use std::io;

/// The longest password read: Peloton's are far shorter, and a paste of a file must not
/// grow without end.
const MAX_BYTES: usize = 1024;

/// Shows `prompt` on the terminal and reads one line from it without echo.
pub fn prompt_hidden(prompt: &str) -> io::Result<String> {
    #[cfg(unix)]
    {
        unix::prompt_hidden(prompt)
    }
    #[cfg(not(unix))]
    {
        rpassword::prompt_password(prompt)
    }
}

/// What the keys typed so far make, one byte at a time: the line, or why it ended.
#[derive(Debug, Default)]
struct LineEditor {
    bytes: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
enum Key {
    More,
    Done,
}

impl LineEditor {
    fn key(&mut self, byte: u8) -> io::Result<Key> {
        match byte {
            b'\r' | b'\n' => return Ok(Key::Done),
            // Ctrl-C
            0x03 => {
                return Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "cancelled with Ctrl-C",
                ));
            }
            // Ctrl-D on an empty line: end of input, as a terminal means it.
            0x04 if self.bytes.is_empty() => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "end of input (Ctrl-D)",
                ));
            }
            // Backspace / Delete: the last character, all of its UTF-8 bytes.
            0x7f | 0x08 => {
                while let Some(b) = self.bytes.pop() {
                    if b & 0xC0 != 0x80 {
                        break;
                    }
                }
            }
            // Ctrl-U: start again.
            0x15 => self.bytes.clear(),
            _ if self.bytes.len() >= MAX_BYTES => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the password is longer than {MAX_BYTES} bytes"),
                ));
            }
            _ => self.bytes.push(byte),
        }
        Ok(Key::More)
    }

    fn line(self) -> io::Result<String> {
        String::from_utf8(self.bytes)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the password is not UTF-8"))
    }
}

#[cfg(unix)]
mod unix {
    use std::fs::{File, OpenOptions};
    use std::io::{self, Read as _, Write as _};

    use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex, Termios};

    use super::{Key, LineEditor};

    /// Puts the terminal back as it was, however the read ends.
    struct Restore<'a> {
        tty: &'a File,
        saved: Termios,
    }

    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = termios::tcsetattr(self.tty, OptionalActions::Now, &self.saved);
        }
    }

    pub(super) fn prompt_hidden(prompt: &str) -> io::Result<String> {
        let tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
        let saved = termios::tcgetattr(&tty)?;
        let mut quiet = saved.clone();
        // No echo, keys one at a time, Ctrl-C as a key.
        quiet
            .local_modes
            .remove(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG);
        quiet.special_codes[SpecialCodeIndex::VMIN] = 1;
        quiet.special_codes[SpecialCodeIndex::VTIME] = 0;
        termios::tcsetattr(&tty, OptionalActions::Now, &quiet)?;
        let restore = Restore { tty: &tty, saved };
        let mut out = restore.tty;
        out.write_all(prompt.as_bytes())?;
        out.flush()?;
        let mut editor = LineEditor::default();
        let mut input = restore.tty;
        let mut byte = [0u8; 1];
        let result = loop {
            match input.read(&mut byte) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                Ok(_) => match editor.key(byte[0]) {
                    Ok(Key::More) => {}
                    Ok(Key::Done) => break Ok(()),
                    Err(e) => break Err(e),
                },
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        // The Enter the user typed was not echoed either.
        let _ = out.write_all(b"\n");
        drop(restore);
        result.and_then(|()| editor.line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &[u8]) -> io::Result<String> {
        let mut editor = LineEditor::default();
        for &k in keys {
            if editor.key(k)? == Key::Done {
                return editor.line();
            }
        }
        Err(io::Error::from(io::ErrorKind::UnexpectedEof))
    }

    #[test]
    fn keys_make_the_line_a_terminal_would() {
        assert_eq!(typed(b"secret\r").unwrap(), "secret");
        assert_eq!(typed(b"secrex\x7ft\n").unwrap(), "secret");
        assert_eq!(typed("pässwort\x7f\x7fd\r".as_bytes()).unwrap(), "pässwod");
        assert_eq!(
            typed("ä\x7fa\r".as_bytes()).unwrap(),
            "a",
            "a whole character"
        );
        assert_eq!(typed(b"wrong\x15right\r").unwrap(), "right");
        assert_eq!(typed(b"\r").unwrap(), "");
    }

    #[test]
    fn ctrl_c_and_ctrl_d_end_the_read_and_a_flood_is_refused() {
        assert_eq!(
            typed(b"abc\x03def\r").unwrap_err().kind(),
            io::ErrorKind::Interrupted
        );
        assert_eq!(
            typed(b"\x04").unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        assert_eq!(
            typed(b"a\x04b\r").unwrap(),
            "a\u{4}b",
            "Ctrl-D mid-line is a key"
        );
        let flood = vec![b'x'; MAX_BYTES + 1];
        assert_eq!(
            typed(&flood).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        assert!(typed(&vec![b'x'; MAX_BYTES]).is_err(), "no Enter yet");
    }
}
