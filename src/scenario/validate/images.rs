//! `images`: which Docker images give each version's Mesos (distribution `upstream`).

use super::Validator;
use crate::scenario::model::{Distribution, Scenario};

impl Validator<'_> {
    pub(super) fn images(&mut self, s: &Scenario) {
        let versions = [s.from.value.as_str(), s.to.value.as_str()];
        for (version, refs) in &s.images {
            let field = format!("images.{version}");
            if s.distribution.value != Distribution::Upstream {
                let p = self
                    .at(
                        refs,
                        "scenario::images_not_upstream",
                        field.clone(),
                        "`images` is for distribution `upstream`; `local` builds every version here",
                    )
                    .label("images of a local scenario")
                    .help("remove `images`, or set `distribution: upstream`");
                self.out.push(p);
                return;
            }
            if !versions.contains(&version.as_str()) {
                let p = self
                    .at(
                        refs,
                        "scenario::images_unknown_version",
                        field.clone(),
                        format!(
                            "`images` names version {version}, which the scenario does not run"
                        ),
                    )
                    .label("not `from` or `to`")
                    .help(format!(
                        "name the scenario's versions: {}",
                        versions.join(", ")
                    ));
                self.out.push(p);
            }
            for (i, reference) in refs.value.iter().enumerate() {
                if reference.trim().is_empty() || reference.chars().any(char::is_whitespace) {
                    let p = self
                        .at(
                            refs,
                            "scenario::bad_image_reference",
                            format!("{field}[{i}]"),
                            format!("`{field}[{i}]` is not an image reference: {reference:?}"),
                        )
                        .label("not an image reference")
                        .help("a reference such as `mesosphere/mesos-master:1.7.3`, or a local image ID");
                    self.out.push(p);
                }
            }
        }
    }
}
