//! Whether a run trial can run here: the scenario is runnable, and an `upstream` scenario's
//! images are on the engine or pullable.

use std::collections::HashMap;

use crate::scenario::model::{Distribution, Scenario};

/// Whether each image reference is on the engine or can be pulled, asked once per reference
/// while the trials are listed (`None`: yes; `Some(why)`: the reason the trial is ignored).
pub(super) struct ImageCheck {
    rt: Option<tokio::runtime::Runtime>,
    engine: Result<crate::docker::Engine, String>,
    seen: HashMap<String, Option<String>>,
}

impl ImageCheck {
    pub(super) fn new() -> ImageCheck {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let engine = match &rt {
            Ok(rt) => rt
                .block_on(crate::docker::Engine::connect())
                .map_err(|e| e.to_string()),
            Err(e) => Err(format!("tokio runtime: {e}")),
        };
        ImageCheck {
            rt: rt.ok(),
            engine,
            seen: HashMap::new(),
        }
    }

    /// Why `reference` cannot be had here, if it cannot.
    fn unavailable(&mut self, reference: &str) -> Option<String> {
        if let Some(known) = self.seen.get(reference) {
            return known.clone();
        }
        let why = match (&self.engine, &self.rt) {
            // The run reports it (and fails under CI=true).
            (Err(_), _) | (_, None) => None,
            (Ok(engine), Some(rt)) => rt.block_on(async {
                match crate::docker::local_image(engine, reference).await {
                    Ok(Some(_)) => None,
                    Ok(None) => crate::docker::registry_has(engine, reference)
                        .await
                        .err()
                        .map(|cause| {
                            format!("skipped: image {reference} not present and cannot be pulled ({cause})")
                        }),
                    Err(e) => Some(format!("skipped: image {reference}: {e}")),
                }
            }),
        };
        self.seen.insert(reference.to_string(), why.clone());
        why
    }

    /// For an `upstream` scenario: the first of its images (after `UPGRADE_HARNESS_IMAGES`)
    /// that cannot be had here.
    fn scenario(&mut self, s: &Scenario) -> Option<String> {
        let overrides = std::env::var(crate::image_builds::IMAGES_ENV)
            .ok()
            .and_then(|t| crate::image_builds::parse_overrides(&t).ok())
            .unwrap_or_default();
        for v in [s.from_version(), s.to_version()] {
            let refs = overrides
                .get(&v)
                .cloned()
                .or_else(|| s.images.get(&v.to_string()).map(|r| r.value.clone()))
                .unwrap_or_default();
            for r in refs {
                if let Some(why) = self.unavailable(&r) {
                    return Some(why);
                }
            }
        }
        None
    }
}

/// Why a run trial is ignored, if it is: the scenario cannot run on this machine. Images are
/// asked about only when `ask_images` (the trial is selected by the filter: nextest starts
/// the binary once per test).
pub(super) fn ignore_reason(
    scenario: Option<&Scenario>,
    images: &mut ImageCheck,
    ask_images: bool,
) -> Option<String> {
    match scenario {
        None => Some("the scenario is invalid; its plan:: trial reports why".to_string()),
        Some(s) => crate::run::not_runnable_reason(s).or_else(|| {
            (ask_images && s.distribution.value == Distribution::Upstream)
                .then(|| images.scenario(s))
                .flatten()
        }),
    }
}
