//! The process's own resource use, read from /proc as every official exporter reports it
//! (`process_*`). A value that cannot be read (not Linux, a hardened /proc) is absent,
//! never 0.

use std::path::Path;

/// Clock ticks per second in /proc/*/stat: USER_HZ, which Linux fixes at 100 for user
/// space on every architecture (client_golang's procfs assumes the same).
const USER_HZ: f64 = 100.0;
/// /proc files read here are a few hundred bytes; anything larger is not what we expect.
const MAX_FILE: u64 = 64 * 1024;
/// Counting open descriptors stops here: the limit of what a count is worth reading.
const MAX_FDS_COUNTED: usize = 1 << 20;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessStats {
    /// User and system CPU time.
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<f64>,
    pub virtual_bytes: Option<f64>,
    pub open_fds: Option<f64>,
    /// The soft limit on open files; absent when unlimited.
    pub max_fds: Option<f64>,
    /// Unix time the process started.
    pub start_time_seconds: Option<f64>,
}

/// Reads this process's numbers from `/proc`.
pub fn read() -> ProcessStats {
    read_from(Path::new("/proc"), Path::new("/proc/self"))
}

fn read_from(proc: &Path, me: &Path) -> ProcessStats {
    let file = |p: &Path| -> Option<String> {
        use std::io::Read as _;
        let mut text = String::new();
        std::fs::File::open(p)
            .ok()?
            .take(MAX_FILE)
            .read_to_string(&mut text)
            .ok()?;
        Some(text)
    };
    let stat = file(&me.join("stat")).and_then(|s| parse_stat(&s));
    let boot = file(&proc.join("stat")).and_then(|s| boot_time(&s));
    let status = file(&me.join("status")).unwrap_or_default();
    ProcessStats {
        cpu_seconds: stat.map(|s| (s.utime + s.stime) as f64 / USER_HZ),
        resident_bytes: kib(&status, "VmRSS:"),
        virtual_bytes: stat.map(|s| s.vsize as f64),
        open_fds: std::fs::read_dir(me.join("fd"))
            .ok()
            .map(|d| d.take(MAX_FDS_COUNTED).count() as f64),
        max_fds: file(&me.join("limits")).and_then(|s| max_open_files(&s)),
        start_time_seconds: stat
            .zip(boot)
            .map(|(s, boot)| boot as f64 + s.starttime as f64 / USER_HZ),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    utime: u64,
    stime: u64,
    starttime: u64,
    vsize: u64,
}

/// `/proc/self/stat`: the command name may hold spaces and parentheses, so the fields are
/// counted from its last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = text.get(text.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field N of proc(5) is at N - 3 here (the first after the name is field 3, state).
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        utime: field(14)?,
        stime: field(15)?,
        starttime: field(22)?,
        vsize: field(23)?,
    })
}

fn boot_time(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// A `kB` line of `/proc/self/status`, in bytes.
fn kib(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find_map(|l| l.strip_prefix(key))?;
    let kb: f64 = line.split_whitespace().next()?.parse().ok()?;
    Some(kb * 1024.0)
}

fn max_open_files(limits: &str) -> Option<f64> {
    let line = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?;
    line.split_whitespace().next()?.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let s = read();
        if !Path::new("/proc/self/stat").exists() {
            assert_eq!(s, ProcessStats::default());
            return;
        }
        assert!(s.cpu_seconds.unwrap() >= 0.0);
        assert!(s.resident_bytes.unwrap() > 1e5);
        assert!(s.virtual_bytes.unwrap() >= s.resident_bytes.unwrap());
        assert!(s.open_fds.unwrap() >= 3.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = s.start_time_seconds.unwrap();
        assert!(
            start <= now + 1.0 && start > now - 86_400.0,
            "{start} vs {now}"
        );
    }

    #[test]
    fn odd_proc_files_give_absent_values_not_zeros() {
        let stat =
            "4242 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 3 0 500 1048576 300 x";
        let s = parse_stat(stat).unwrap();
        assert_eq!(
            (s.utime, s.stime, s.starttime, s.vsize),
            (250, 150, 500, 1_048_576)
        );
        assert_eq!(parse_stat("4242 (truncated) S 1 2"), None);
        assert_eq!(parse_stat(""), None);
        assert_eq!(
            boot_time("cpu 1 2 3\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
        assert_eq!(
            kib("Name: x\nVmRSS:\t  7340 kB\n", "VmRSS:"),
            Some(7340.0 * 1024.0)
        );
        assert_eq!(kib("VmRSS: lots kB", "VmRSS:"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
        assert_eq!(max_open_files(limits), Some(1024.0));
        assert_eq!(
            max_open_files(
                "Max open files            unlimited            unlimited            files"
            ),
            None
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_from(dir.path(), dir.path()), ProcessStats::default());
    }
}
