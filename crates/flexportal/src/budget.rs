//! The request budget of one process: a sliding window over the last window's requests, with
//! at most a share of it for background work and another for sign-in lookups. Whatever the
//! concurrency, no window ever sees more requests than the budget allows. Several instances
//! share one budget through an [`crate::AnswerStore`] that keeps it in their database; this
//! is the budget of [`crate::MemoryStore`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Who a request to FlexPortal is for, which decides the share of the budget it may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Priority {
    /// A reader with no answer at hand, waiting for this one: may use the whole budget.
    Reader,
    /// A sign-in lookup: at most [`Shares::sign_in`] of any window.
    SignIn,
    /// Work nobody waits for (refreshes behind readers, warm-ups, webhook refreshes): at most
    /// [`Shares::background`] of any window.
    Background,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Reader => "reader",
            Priority::SignIn => "sign_in",
            Priority::Background => "background",
        }
    }
}

/// How the budget is split, in percent of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shares {
    pub background: u32,
    pub sign_in: u32,
}

impl Default for Shares {
    fn default() -> Self {
        Self {
            background: 30,
            sign_in: 20,
        }
    }
}

/// The budget's numbers: requests per window, the window, and the shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    pub limit: u32,
    pub window: Duration,
    pub shares: Shares,
}

impl Allowance {
    /// A request's place in the budget is freed a minute after it was sent, plus a margin: a
    /// request takes a moment to arrive, and an upstream that counts arrivals in its own minute
    /// must never see more than the budget, however the delays of two requests differ.
    pub const WINDOW: Duration = Duration::from_secs(61);

    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            window: Self::WINDOW,
            shares: Shares::default(),
        }
    }

    /// Most requests of `priority` in one window: its share of the limit, rounded down but at
    /// least one, so that a tiny budget still lets every kind of work through; none for a
    /// share of 0 %.
    pub fn cap(&self, priority: Priority) -> u32 {
        let share = match priority {
            Priority::Reader => return self.limit,
            Priority::SignIn => self.shares.sign_in,
            Priority::Background => self.shares.background,
        };
        if share == 0 {
            return 0;
        }
        let share = u64::from(share.min(100));
        u32::try_from(u64::from(self.limit) * share / 100)
            .unwrap_or(u32::MAX)
            .max(1)
    }
}

#[derive(Debug)]
pub(crate) struct Budget {
    allowance: Allowance,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// When each request of the window was sent and for whom, oldest first.
    sent: VecDeque<(Instant, Priority)>,
    /// Set when FlexPortal answered 429: nobody sends before then.
    paused_until: Option<Instant>,
}

impl Budget {
    pub fn new(allowance: Allowance) -> Self {
        Self {
            allowance,
            state: Mutex::new(State::default()),
        }
    }

    /// Takes one request from the budget for `priority` if there is room now; otherwise says
    /// when there may be.
    pub fn try_take(&self, priority: Priority) -> Result<(), Instant> {
        self.check(priority, true)
    }

    /// When there is room for `priority`: `Ok` now, or the time there may be.
    pub fn room(&self, priority: Priority) -> Result<(), Instant> {
        self.check(priority, false)
    }

    fn check(&self, priority: Priority, take: bool) -> Result<(), Instant> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let window = self.allowance.window;
        while state
            .sent
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= window)
        {
            state.sent.pop_front();
        }
        if let Some(until) = state.paused_until.filter(|until| *until > now) {
            return Err(until);
        }
        let limit = self.allowance.limit as usize;
        if state.sent.len() >= limit {
            return Err(state.sent[0].0 + window);
        }
        if priority != Priority::Reader {
            let cap = self.allowance.cap(priority) as usize;
            if cap == 0 {
                return Err(now + window);
            }
            let mut own = state.sent.iter().filter(|(_, p)| *p == priority);
            if let Some((oldest, _)) = own.clone().next() {
                if own.nth(cap - 1).is_some() {
                    return Err(*oldest + window);
                }
            }
        }
        if take {
            state.sent.push_back((now, priority));
        }
        Ok(())
    }

    /// FlexPortal said 429: hold every request back for `wait`.
    pub fn pause_for(&self, wait: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let until = Instant::now() + wait;
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A short window keeps the tests quick; the rule is the same at any scale.
    const TEST_WINDOW: Duration = Duration::from_millis(200);

    fn budget(limit: u32) -> Budget {
        Budget::new(Allowance {
            limit,
            window: TEST_WINDOW,
            shares: Shares::default(),
        })
    }

    #[test]
    fn tells_when_there_is_room_again() {
        let budget = budget(2);
        budget.try_take(Priority::Reader).unwrap();
        budget.try_take(Priority::Reader).unwrap();
        let ready = budget.try_take(Priority::Reader).unwrap_err();
        let wait = ready.saturating_duration_since(Instant::now());
        assert!(wait > Duration::ZERO && wait <= TEST_WINDOW, "{wait:?}");
        budget.pause_for(TEST_WINDOW * 5);
        let ready = budget.try_take(Priority::Reader).unwrap_err();
        assert!(ready.saturating_duration_since(Instant::now()) > TEST_WINDOW * 4);
    }

    #[test]
    fn background_and_sign_in_keep_to_their_shares_and_readers_get_the_rest() {
        let budget = budget(10);
        let taken = |p| (0..20).filter(|_| budget.try_take(p).is_ok()).count();
        assert_eq!(taken(Priority::Background), 3, "30 % of 10");
        assert_eq!(taken(Priority::SignIn), 2, "20 % of 10");
        assert_eq!(taken(Priority::Reader), 5, "the rest");
        assert!(budget.try_take(Priority::Background).is_err());
    }

    #[test]
    fn shares_never_round_to_nothing() {
        let a = Allowance::per_minute(2);
        assert_eq!(a.cap(Priority::Background), 1);
        assert_eq!(a.cap(Priority::SignIn), 1);
        assert_eq!(a.cap(Priority::Reader), 2);
    }

    #[tokio::test]
    async fn never_more_than_the_budget_in_any_window() {
        let budget = budget(5);
        let start = Instant::now();
        let mut times = Vec::new();
        while times.len() < 12 {
            match budget.try_take(Priority::Reader) {
                Ok(()) => times.push(start.elapsed()),
                Err(at) => tokio::time::sleep_until(at).await,
            }
        }
        for t in &times {
            let in_window = times
                .iter()
                .filter(|u| **u >= *t && **u < *t + TEST_WINDOW)
                .count();
            assert!(in_window <= 5, "{in_window} in the window from {t:?}");
        }
        assert!(times[4] < TEST_WINDOW, "the first five go at once");
        assert!(times[5] >= TEST_WINDOW, "the sixth waits for the window");
    }

    #[test]
    fn a_pause_holds_everyone_back() {
        let budget = budget(100);
        budget.pause_for(Duration::from_millis(150));
        assert!(budget.try_take(Priority::Reader).is_err());
        assert!(budget.try_take(Priority::Background).is_err());
    }
}
