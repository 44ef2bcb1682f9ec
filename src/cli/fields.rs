//! Record fields as command-line flags, generated from the field tables of
//! [`crate::model::kind`]: `--area`, `--trl`, `--hq-country`, ... (underscores become dashes).
//! A flag that the record's kind does not have is refused by the service with the list of
//! fields it has.

use std::collections::BTreeMap;

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};

use crate::model::Kind;

/// The values given as field flags, by field name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldFlags(pub BTreeMap<String, String>);

/// Every field name of every kind, with the kinds that have it and their help.
fn all_fields() -> BTreeMap<&'static str, Vec<String>> {
    let mut fields: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for kind in Kind::ALL {
        for field in kind.fields() {
            fields
                .entry(field.name)
                .or_default()
                .push(format!("{kind}: {}", field.help));
        }
    }
    fields
}

impl FromArgMatches for FieldFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = FieldFlags::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for name in all_fields().keys() {
            if let Ok(Some(value)) = matches.try_get_one::<String>(name) {
                self.0.insert((*name).to_owned(), value.clone());
            }
        }
        Ok(())
    }
}

impl Args for FieldFlags {
    fn augment_args(mut command: Command) -> Command {
        for (name, helps) in all_fields() {
            command = command.arg(
                Arg::new(name)
                    .long(name.replace('_', "-"))
                    .value_name("VALUE")
                    .help(helps.join("; "))
                    .help_heading("Record fields (lists comma-separated, shares as 0.61 or 61%)"),
            );
        }
        command
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}
