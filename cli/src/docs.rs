//! `completions` and `man`: shell completion scripts and man pages, generated from the same
//! clap definition the parser uses, so that they cannot drift from the real command line.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Cli;
use crate::error::{CliError, Code, print};

/// The program name the scripts complete and the pages are titled with.
const NAME: &str = "cityauth";

/// `completions <shell>`: the script on stdout, to be sourced or saved where the shell
/// looks for completions.
pub fn completions(shell: Shell) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, NAME, &mut script);
    print(&String::from_utf8_lossy(&script))
}

/// `man [command]`: the main page, or one subcommand's, as roff on stdout.
pub fn man(subcommand: Option<&str>) -> Result<(), CliError> {
    let mut command = Cli::command();
    // Built so that a subcommand's page is titled `cityauth-<name>` and its usage line
    // reads `cityauth <name> ...`, as the parser would print them.
    command.build();
    let page = match subcommand {
        None => command,
        Some(name) => command.find_subcommand(name).cloned().ok_or_else(|| {
            CliError::usage(format!(
                "no command '{name}' to show a page for; `cityauth --help` lists them"
            ))
        })?,
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .map_err(|error| CliError::new(Code::Io, format!("cannot write the man page: {error}")))?;
    print(&String::from_utf8_lossy(&roff))
}
