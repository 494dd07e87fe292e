//! The one loop that pages through the workout list, for the first sync and for every
//! poll after it, with its bounds: a page cap from the list's `total`, a stop at the first
//! page with no new id (a list that does not end), and the rate limit.

use std::collections::BTreeSet;

use super::error::PollError;
use super::poller::Poller;
use super::sync_state::{
    HISTORY_PAGE_LIMIT, META_HISTORY_COMPLETE, META_HISTORY_NEXT_PAGE, STEADY_PAGE_LIMIT, Walk,
};

/// Pages of the first sync when Peloton reports no `total`: a million workouts.
const MAX_HISTORY_PAGES: u32 = 10_000;
/// Pages read beyond what the reported `total` needs: the list may grow while we page.
const PAGE_SLACK: u32 = 2;

impl Poller {
    pub(super) async fn walk_list(&mut self, user_id: &str, walk: Walk) -> Result<(), PollError> {
        let mut page = match walk {
            Walk::History => self
                .store
                .meta(META_HISTORY_NEXT_PAGE)?
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
            Walk::Newest => 0,
        };
        let mut limit = match walk {
            Walk::History => HISTORY_PAGE_LIMIT,
            Walk::Newest => STEADY_PAGE_LIMIT,
        };
        if walk == Walk::History {
            tracing::info!(page, "syncing workout history");
        }
        // Read before any page: what completes during the walk is new to this overview.
        let count_new = walk == Walk::Newest && self.counting.counts_new();
        let mut seen = BTreeSet::new();
        let mut bound = MAX_HISTORY_PAGES;
        loop {
            if page > 0 || limit != STEADY_PAGE_LIMIT {
                // Past the one small request of a quiet poll, every page is paced.
                self.limiter.wait().await;
            }
            let list = self.client.workouts(user_id, page, limit).await?;
            if page == 0 {
                self.account.workouts_by_month.clone_from(&list.by_month);
                self.account.newest = list.workouts.first().cloned();
            }
            if limit == HISTORY_PAGE_LIMIT {
                bound = page_bound(list.total, limit).unwrap_or(bound);
            }
            let fresh = list
                .workouts
                .iter()
                .filter(|w| seen.insert(w.id.clone()))
                .count();
            let listed = self.store.upsert_listed(&list.workouts)?;
            let known = self.counting.listed(&listed, count_new);
            if walk == Walk::History {
                self.store
                    .set_meta(META_HISTORY_NEXT_PAGE, &(page + 1).to_string())?;
                self.sync.pending = Some(self.store.pending_count()?);
                self.publish();
            }
            let more = list.has_next(page, limit);
            if (walk == Walk::Newest && known) || !more || list.items == 0 {
                break;
            }
            if fresh == 0 || page + 1 >= bound {
                match walk {
                    Walk::History => tracing::warn!(
                        page = page + 1,
                        total = ?list.total,
                        "the workout list goes on past its end (no new workouts, or past the pages its total needs); taking the history as complete"
                    ),
                    Walk::Newest => tracing::warn!(
                        page,
                        total = ?list.total,
                        "the workout list does not end where it should; stopping here until the next poll"
                    ),
                }
                break;
            }
            if limit == STEADY_PAGE_LIMIT {
                // More happened than one small page shows: continue with large pages
                // (page 0 again, as page numbers depend on the size).
                limit = HISTORY_PAGE_LIMIT;
                page = 0;
            } else {
                page += 1;
            }
        }
        self.sync.pending = Some(self.store.pending_count()?);
        if walk == Walk::History {
            self.store.set_meta(META_HISTORY_COMPLETE, "1")?;
            self.sync.history_listed = true;
            tracing::info!(workouts = self.store.count()?, "workout history listed");
        }
        Ok(())
    }
}

/// The pages a list of `total` workouts needs at `limit` per page, with some slack for a
/// list that grows while we page; `None` when Peloton gave no usable total.
fn page_bound(total: Option<i64>, limit: u32) -> Option<u32> {
    let total = u32::try_from(total?).ok()?;
    Some(
        total
            .div_ceil(limit.max(1))
            .saturating_add(PAGE_SLACK)
            .min(MAX_HISTORY_PAGES),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_bound_has_slack_and_a_cap() {
        assert_eq!(page_bound(Some(250), 100), Some(5));
        assert_eq!(page_bound(Some(0), 100), Some(2));
        assert_eq!(page_bound(None, 100), None);
        assert_eq!(page_bound(Some(-1), 100), None);
        assert_eq!(page_bound(Some(i64::MAX), 100), None);
        assert_eq!(page_bound(Some(4_000_000_000), 1), Some(MAX_HISTORY_PAGES));
    }
}
