//! Stamps the build for `--version` and `peloton_exporter_build_info`: the git revision
//! (unless `PELOTON_EXPORTER_REVISION` gives it, as the Dockerfile does: its build context
//! has no .git), the build date (`SOURCE_DATE_EPOCH` for reproducible builds) and the
//! compiler's version.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-env-changed=PELOTON_EXPORTER_REVISION");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let revision = match std::env::var("PELOTON_EXPORTER_REVISION") {
        Ok(r) if !r.trim().is_empty() => r.trim().to_owned(),
        _ => git_revision().unwrap_or_else(|| "unknown".to_owned()),
    };
    println!("cargo:rustc-env=PELOTON_EXPORTER_REVISION={revision}");

    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    println!(
        "cargo:rustc-env=PELOTON_EXPORTER_BUILD_DATE={}",
        utc_date(secs)
    );

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rust_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=PELOTON_EXPORTER_RUST_VERSION={rust_version}");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=PELOTON_EXPORTER_TARGET={target}");

    // The static (musl) binary relocates itself at start (static PIE): its 0.4 MB of
    // relative relocations stayed resident for good. Packed (DT_RELR, which musl's
    // start-up code applies since 1.2.4; GNU ld 2.38 or later) they take a few kB
    // (docs/benchmarks.md, "The static build against nginx").
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl")
        && std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The checked-out commit, and the files whose change means another one is checked out.
fn git_revision() -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
    };
    let revision = git(&["rev-parse", "--short=12", "HEAD"])?;
    // A worktree's HEAD lives in its own git dir, its branches in the common one.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        let dir = PathBuf::from(dir);
        watch(&dir.join("HEAD"));
        let common = git(&["rev-parse", "--git-common-dir"]).map_or(dir, PathBuf::from);
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch(&common.join(head));
        }
        watch(&common.join("packed-refs"));
    }
    Some(revision)
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// `2025-11-20T14:03:00Z` from Unix seconds (civil-from-days, proleptic Gregorian).
fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
