//! This computer's name, for the default device name: the kernel's node name on Unix
//! (uname), `COMPUTERNAME` on Windows; never a guess from a shell variable.

/// The host name, if the system has a usable one.
pub fn get() -> Option<String> {
    let name = system_name()?;
    let name = name.trim();
    // Bounded and printable: it is sent to the server and shown on the portal.
    let usable = !name.is_empty() && name.len() <= 64 && !name.chars().any(char::is_control);
    usable.then(|| name.to_owned())
}

#[cfg(unix)]
fn system_name() -> Option<String> {
    let uname = rustix::system::uname();
    uname.nodename().to_str().ok().map(str::to_owned)
}

#[cfg(not(unix))]
fn system_name() -> Option<String> {
    std::env::var("COMPUTERNAME").ok()
}
