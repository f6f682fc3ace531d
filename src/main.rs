use clap::Parser;

use ftaudit::cli::{Cli, Command};
use ftaudit::cmd;

fn main() {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Rule(args) => cmd::rule::run(args),
        Command::Wheel(args) => cmd::wheel::run(args),
        Command::Verify(args) => cmd::verify::run(args),
    };
    std::process::exit(status as i32);
}
