//! `--demo`: the fake Peloton API from the tests, started in-process on loopback with a
//! demo member whose workouts keep coming, and the exporter pointed at it.

use std::time::Duration;

use crate::secret::Secret;
use crate::settings::resolved::{AccountSettings, Settings};
use peloton_fake::{FakeOptions, FakePeloton, LiveRide};

/// How often the demo member starts (and, one tick later, finishes) a workout.
const DEMO_WORKOUT_EVERY: Duration = Duration::from_secs(60);

/// Starts the fake and rewrites `settings` to use it. The returned handle keeps it alive.
pub async fn start(settings: &mut Settings) -> std::io::Result<FakePeloton> {
    let fake = FakePeloton::start(FakeOptions {
        live_interval: Some(DEMO_WORKOUT_EVERY),
        live_ride: settings.demo_live.then(LiveRide::demo),
        ..FakeOptions::default()
    })
    .await?;
    let peloton = &mut settings.peloton;
    peloton.api_url = url::Url::parse(&fake.api_url()).map_err(std::io::Error::other)?;
    peloton.auth_url = url::Url::parse(&fake.auth_url()).map_err(std::io::Error::other)?;
    let storage_path = settings.accounts.first().map_or_else(
        || std::env::temp_dir().join("peloton-exporter-demo"),
        |a| a.storage_path.clone(),
    );
    settings.accounts = vec![AccountSettings {
        name: None,
        access_token: None,
        refresh_token: Some(Secret::new(fake.refresh_token())),
        username: None,
        password: None,
        storage_path,
    }];
    tracing::info!(api = %settings.peloton.api_url, "demo mode: serving a fake Peloton member on loopback");
    Ok(fake)
}
