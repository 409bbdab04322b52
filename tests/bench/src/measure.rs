//! What is measured on the function process and its files: peak RSS (`VmHWM`), binary sizes
//! and architectures, and where the built binaries are.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Build profile of the function binaries to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

impl Profile {
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

/// The workspace root, as the harness finds it (the one `cargo lambda watch` serves).
pub fn workspace_root() -> PathBuf {
    harness::process::workspace_root().to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR`, else the one this executable was built in
/// (`target/<profile>/…` or `target/<profile>/deps/…` for tests), else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() { dir } else { workspace_root().join(dir) };
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if (name == "debug" || name == "release")
                && let Some(parent) = dir.parent()
            {
                return parent.to_path_buf();
            }
        }
    }
    workspace_root().join("target")
}

/// The built binary of function `name` for `profile`, or an error saying how to build it.
pub fn function_binary(name: &str, profile: Profile) -> Result<PathBuf> {
    let path = target_dir().join(profile.dir()).join(name);
    if path.is_file() {
        return Ok(path);
    }
    let how = match profile {
        Profile::Debug => format!("cargo build --bin {name}"),
        Profile::Release => format!("cargo build --release --bin {name}"),
    };
    Err(Error::msg(format!(
        "no built binary of function {name} at {} (target dir from CARGO_TARGET_DIR or this executable's location); build it first: {how}",
        path.display()
    )))
}

/// Peak resident set size of a live process in KiB (`VmHWM` of `/proc/<pid>/status`).
pub fn peak_rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("{path}: {e}")))?;
    parse_kib(&text, "VmHWM:").ok_or_else(|| Error::msg(format!("{path}: no VmHWM line")))
}

/// Current and peak resident set size in KiB (`VmRSS`, `VmHWM`), from one read of the status
/// file (the kernel reports the peak as at least the current RSS within one read).
pub fn rss_and_peak_kib(pid: u32) -> Result<(u64, u64)> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("{path}: {e}")))?;
    let rss = parse_kib(&text, "VmRSS:").ok_or_else(|| Error::msg(format!("{path}: no VmRSS line")))?;
    let peak = parse_kib(&text, "VmHWM:").ok_or_else(|| Error::msg(format!("{path}: no VmHWM line")))?;
    Ok((rss, peak))
}

fn parse_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix(key)).and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Reset the process's peak RSS to its current RSS (`echo 5 > /proc/<pid>/clear_refs`,
/// Linux ≥ 4.0), so the next `VmHWM` is the peak of what happens after. False if the kernel
/// or permissions do not allow it (the peak is then the process's lifetime peak).
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), b"5").is_ok()
}

/// Size of a file in bytes.
pub fn file_size(path: &Path) -> Result<u64> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| Error::msg(format!("{}: {e}", path.display())))
}

/// The machine an ELF file is built for (`x86_64`, `aarch64`, or the raw number).
pub fn elf_machine(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    if bytes.len() < 20 || &bytes[..4] != b"\x7fELF" {
        return Err(Error::msg(format!("{} is not an ELF file", path.display())));
    }
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    Ok(match machine {
        0x3E => "x86_64".to_owned(),
        0xB7 => "aarch64".to_owned(),
        other => format!("elf-machine-{other:#x}"),
    })
}

/// Bytes to MB (10^6), two decimals.
pub fn mb(bytes: u64) -> f64 {
    (bytes as f64 / 1e6 * 100.0).round() / 100.0
}

/// The machine this runs on, for the results: CPU model, cores, memory, kernel.
pub fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| parse_kib(&t, "MemTotal:"))
        .map(|k| k as f64 / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem_gib:.0} GiB, Linux {} ({})", kernel.trim(), std::env::consts::ARCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peak_of_this_process() {
        let pid = std::process::id();
        let (now, peak) = rss_and_peak_kib(pid).expect("VmRSS and VmHWM");
        assert!(peak >= now && now > 0, "peak {peak} KiB, now {now} KiB");
        // 64 MiB touched, then freed: the peak remembers it.
        let big = vec![1u8; 64 << 20];
        assert_eq!(big.iter().map(|b| u64::from(*b)).sum::<u64>(), 64 << 20);
        drop(big);
        assert!(peak_rss_kib(pid).expect("VmHWM") >= peak + (60 << 10), "the 64 MiB are in the peak");
    }

    #[test]
    fn this_test_binary_is_an_elf_of_this_machine() {
        let exe = std::env::current_exe().expect("exe");
        assert_eq!(elf_machine(&exe).expect("ELF"), std::env::consts::ARCH);
        assert!(elf_machine(Path::new("Cargo.toml")).is_err());
    }

    #[test]
    fn a_missing_binary_names_the_build_command() {
        let err = function_binary("no-such-function", Profile::Release).expect_err("missing");
        assert!(err.to_string().contains("cargo build --release --bin no-such-function"), "{err}");
    }
}
