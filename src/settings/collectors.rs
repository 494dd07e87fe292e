//! `--collector.<name>` and `--no-collector.<name>`: the optional metric groups, written out
//! from `metrics::collectors::GROUPS`, so a new group is one entry there. The server and
//! `backfill` read them; `export` and `login` refuse them.

use crate::metrics::collectors::{Collector, Collectors, GROUPS};

/// The optional metric groups, each on by default. `--collector.X=false` (or the
/// environment variable) and `--no-collector.X` switch one off.
///
/// `--collector.<name>[=BOOL]` and `--no-collector.<name>` for every optional group in
/// `metrics::collectors::GROUPS`, written out from that list (clap's derive cannot loop).
/// Of the two flags of a group the last one given wins, as in node_exporter.
#[derive(Debug, Clone, Default)]
pub struct CollectorFlags {
    /// Per group: `Some(on)` when a flag or its variable said so.
    chosen: Vec<(Collector, bool)>,
}

impl CollectorFlags {
    pub fn collectors(&self) -> Collectors {
        Collectors::new(GROUPS.iter().map(|g| {
            let chosen = self.chosen.iter().find(|(c, _)| *c == g.collector);
            (g.collector, chosen.map_or(g.default, |(_, on)| *on))
        }))
    }
}

impl clap::Args for CollectorFlags {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        for g in GROUPS {
            let default = if g.default { "on" } else { "off" };
            cmd = cmd
                .arg(
                    clap::Arg::new(g.flag)
                        .long(g.flag)
                        .env(g.env)
                        .global(true)
                        .value_name("BOOL")
                        .num_args(0..=1)
                        .require_equals(true)
                        .default_missing_value("true")
                        .value_parser(clap::value_parser!(bool))
                        .overrides_with(g.no_flag)
                        .hide_env(true)
                        .help(format!("{} [env: {}=] [default: {default}]", g.help, g.env))
                        .help_heading("Collectors"),
                )
                .arg(
                    clap::Arg::new(g.no_flag)
                        .long(g.no_flag)
                        .global(true)
                        .action(clap::ArgAction::SetTrue)
                        .overrides_with(g.flag)
                        .help(format!("Switch off --{}", g.flag))
                        .help_heading("Collectors"),
                );
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for CollectorFlags {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut chosen = Vec::new();
        for g in GROUPS {
            if matches.get_flag(g.no_flag) {
                chosen.push((g.collector, false));
            } else if let Some(on) = matches.get_one::<bool>(g.flag) {
                chosen.push((g.collector, *on));
            }
        }
        Ok(Self { chosen })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}
