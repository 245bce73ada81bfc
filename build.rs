// Migrations are embedded by the core crate; this script only decides which test
// groups can run here. A group whose component is missing is compiled as ignored,
// with the reason, so `cargo test` lists it as skipped instead of passing silently.
// CI (`CI` set) never skips: a missing component fails its tests there.
use std::path::Path;
use std::process::{Command, Stdio};

fn main() {
    for name in ["CI", "TEST_POSTGRES_URL", "AFFDESK_MOTO_SERVER", "CHROMIUM", "CHROMEDRIVER"] {
        println!("cargo:rerun-if-env-changed={name}");
    }
    // Installing a Debian package changes this file: probe again then.
    if Path::new("/var/lib/dpkg/status").exists() {
        println!("cargo:rerun-if-changed=/var/lib/dpkg/status");
    }
    let ci = std::env::var_os("CI").is_some();
    let postgres = std::env::var("TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty());
    let local_moto = Path::new("target/ci-venv/bin/moto_server");
    if local_moto.exists() {
        println!("cargo:rerun-if-changed={}", local_moto.display());
    }
    let moto = std::env::var_os("AFFDESK_MOTO_SERVER").is_some() || local_moto.exists();
    let smtp = Command::new("/usr/bin/python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let tool = |var: &str, default: &str| std::env::var_os(var).map(Into::into).unwrap_or_else(|| default.into());
    let chromium: std::path::PathBuf = tool("CHROMIUM", "/usr/bin/chromium");
    let chromedriver: std::path::PathBuf = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
    let browser = chromium.exists() && chromedriver.exists();
    for (cfg, present) in [("no_postgres", postgres), ("no_moto", moto), ("no_smtp", smtp), ("no_browser", browser)] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if !present && !ci {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
