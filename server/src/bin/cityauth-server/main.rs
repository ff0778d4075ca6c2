//! `cityauth-server`: run the reference City account server, or administer its database.
//!
//! `args.rs` is the command line, `layers.rs` puts the configuration file under it,
//! `settings.rs` turns the result into the server's `Config`, `serve.rs` runs the server and
//! `admin.rs` the administrator's commands (and backup, restore, `config check`).

mod admin;
mod args;
mod layers;
mod serve;
mod settings;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Command, ConfigCommand};
use cityauth_server::settings::FileSettings;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let result = cli
        .config
        .as_deref()
        .map(FileSettings::read)
        .transpose()
        .map(Option::unwrap_or_default)
        .and_then(|file| layers::apply(&mut cli, &matches, &file).map(|()| file))
        .map_err(|e| e.to_string())
        .and_then(|file| run(cli, file));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cityauth-server: {message}");
            ExitCode::FAILURE
        }
    }
}

/// How long an admin command waits for its email notices before it returns.
const NOTICE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

fn run(cli: Cli, file: FileSettings) -> Result<(), String> {
    match &cli.command {
        // Neither opens the database: the check must not create one, and a restore's target
        // must not exist.
        Command::Config {
            command: ConfigCommand::Check(serve),
        } => return admin::config_check(&cli, serve, &file),
        Command::Restore { path } => return admin::restore(&cli, path),
        // The admin commands print to the terminal; only the server logs.
        Command::Serve(_) => cityauth_server::logging::init(cli.log_format),
        _ => {}
    }
    let (state, directory) = settings::state(&cli, &file)?;
    match cli.command {
        Command::Serve(serve) => serve::serve(state, serve.listen, directory),
        Command::Backup { path } => admin::backup(&state, &path),
        other => {
            let done = admin::run(&state, other);
            // A removed phone's notice: sent before the command returns, not lost with it.
            if !state.finish_notices(NOTICE_PATIENCE) {
                eprintln!("cityauth-server: an email notice could not be sent yet and is dropped");
            }
            done
        }
    }
}
