//! The per-minute request budget: a sliding window over the last minute's requests, shared by
//! every caller of one client. Whatever the concurrency, no minute ever sees more requests than
//! the budget allows.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;

/// A request's place in the budget is freed a minute after it was sent, plus a margin: a
/// request takes a moment to arrive, and an upstream that counts arrivals in its own minute
/// must never see more than the budget, however the delays of two requests differ.
const WINDOW: Duration = Duration::from_secs(61);

#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    window: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// When each request of the last minute was sent, oldest first.
    sent: VecDeque<Instant>,
    /// Set when FlexPortal answered 429: nobody sends before then.
    paused_until: Option<Instant>,
}

impl Budget {
    pub fn new(per_minute: u32) -> Self {
        Self::with_window(per_minute, WINDOW)
    }

    fn with_window(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit.max(1) as usize,
            window,
            state: Mutex::new(State::default()),
        }
    }

    /// Takes one request from the budget, waiting for room up to `max_wait`. If the wait
    /// would be longer, fails at once with the time after which room will be free.
    pub async fn acquire(&self, max_wait: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + max_wait;
        loop {
            let ready_at = {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                while state
                    .sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    state.sent.pop_front();
                }
                let paused = state.paused_until.filter(|until| *until > now);
                match (paused, state.sent.len() < self.limit) {
                    (None, true) => {
                        state.sent.push_back(now);
                        return Ok(());
                    }
                    (Some(until), _) => until,
                    (None, false) => state.sent[0] + self.window,
                }
            };
            if ready_at > deadline {
                return Err(Error::BudgetExhausted {
                    retry_after: ready_at.saturating_duration_since(Instant::now()),
                });
            }
            tokio::time::sleep_until(ready_at).await;
        }
    }

    /// How long a request taken now would wait for room: zero when there is room.
    pub fn wait_for_room(&self) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while state
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            state.sent.pop_front();
        }
        let paused = state
            .paused_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let full = if state.sent.len() < self.limit {
            Duration::ZERO
        } else {
            (state.sent[0] + self.window).saturating_duration_since(now)
        };
        paused.max(full)
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

    #[tokio::test]
    async fn tells_how_long_until_there_is_room() {
        let budget = Budget::with_window(2, TEST_WINDOW);
        assert_eq!(budget.wait_for_room(), Duration::ZERO);
        budget.acquire(Duration::ZERO).await.unwrap();
        assert_eq!(budget.wait_for_room(), Duration::ZERO);
        budget.acquire(Duration::ZERO).await.unwrap();
        let wait = budget.wait_for_room();
        assert!(wait > Duration::ZERO && wait <= TEST_WINDOW, "{wait:?}");
        budget.pause_for(TEST_WINDOW * 5);
        assert!(budget.wait_for_room() > TEST_WINDOW * 4);
    }

    #[tokio::test]
    async fn never_more_than_the_budget_in_any_window() {
        let budget = std::sync::Arc::new(Budget::with_window(5, TEST_WINDOW));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let budget = budget.clone();
            tasks.push(tokio::spawn(async move {
                budget.acquire(Duration::from_secs(5)).await.unwrap();
                Instant::now().duration_since(start)
            }));
        }
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        times.sort();
        for t in &times {
            let in_window = times
                .iter()
                .filter(|u| **u >= *t && **u < *t + TEST_WINDOW)
                .count();
            assert!(
                in_window <= 5,
                "{in_window} requests in the window from {t:?}"
            );
        }
        assert!(times[4] < TEST_WINDOW, "the first five go at once");
        assert!(times[5] >= TEST_WINDOW, "the sixth waits for the window");
        assert!(times[10] >= TEST_WINDOW * 2);
    }

    #[tokio::test]
    async fn a_long_wait_fails_fast_with_the_time_to_wait() {
        let budget = Budget::new(1);
        budget.acquire(Duration::ZERO).await.unwrap();
        let started = Instant::now();
        let err = budget.acquire(Duration::from_secs(1)).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(100));
        let wait = err.retry_after().unwrap();
        assert!(wait > Duration::from_secs(59) && wait <= WINDOW, "{wait:?}");
    }

    #[tokio::test]
    async fn a_pause_holds_everyone_back() {
        let budget = Budget::new(100);
        budget.pause_for(Duration::from_millis(150));
        let start = Instant::now();
        budget.acquire(Duration::from_secs(10)).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert!(
            budget.acquire(Duration::ZERO).await.is_ok(),
            "the pause is over"
        );
    }
}
