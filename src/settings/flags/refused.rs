//! `Refused<G>`: the flags of group `G` in a subcommand that does not read them. A
//! subcommand names the groups it refuses by their types, so a flag added to a group is
//! refused wherever its group is, with no list of names to keep up to date.

use std::marker::PhantomData;

/// Refuses every flag of `G` in the subcommand whose arguments flatten it: given there, it
/// is an error that names the subcommand; `--help` there does not show it; its
/// environment variable is ignored, as the server's variables are often set for every
/// command of a host.
pub struct Refused<G>(PhantomData<fn() -> G>);

impl<G> std::fmt::Debug for Refused<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refused")
    }
}

impl<G> Clone for Refused<G> {
    fn clone(&self) -> Self {
        Self(PhantomData)
    }
}

impl<G: clap::Args> clap::Args for Refused<G> {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        let name = cmd.get_name().to_owned();
        let group = G::augment_args(clap::Command::new("group"));
        // An argument of the subcommand with the id of a global one stops clap from
        // propagating the global one into it; this one only refuses.
        for arg in group.get_arguments() {
            let refusal = format!("`{name}` does not use it (see `{name} --help`)");
            cmd = cmd.arg(
                arg.clone()
                    .global(false)
                    .hide(true)
                    .help_heading(None)
                    .env(None)
                    .default_value(None)
                    .action(clap::ArgAction::Set)
                    .num_args(0..=1)
                    .require_equals(false)
                    .default_missing_value("")
                    .value_parser(move |_: &str| Err::<String, _>(refusal.clone())),
            );
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl<G> clap::FromArgMatches for Refused<G> {
    fn from_arg_matches(_: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self(PhantomData))
    }

    fn update_from_arg_matches(&mut self, _: &clap::ArgMatches) -> Result<(), clap::Error> {
        Ok(())
    }
}
