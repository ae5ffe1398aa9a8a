//! Fairness: at most `concurrency` runs at once on the server, at most one at a time per
//! room, first come first served among the rest, and a bounded wait list.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, watch};

/// The wait list is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

/// The server's run queue.
#[derive(Clone)]
pub struct RunQueue {
    inner: Arc<Mutex<State>>,
}

struct State {
    concurrency: usize,
    capacity: usize,
    running: usize,
    busy_rooms: HashSet<Arc<str>>,
    waiting: VecDeque<Waiter>,
}

struct Waiter {
    room: Arc<str>,
    go: oneshot::Sender<Slot>,
    position: watch::Sender<usize>,
}

/// A place in the queue: its position (1 = next) changes as others start, and `turn`
/// resolves when the run may start.
pub struct Ticket {
    pub position: watch::Receiver<usize>,
    pub turn: oneshot::Receiver<Slot>,
}

/// The right to run one room's code; the next run may start when it is dropped.
pub struct Slot {
    queue: RunQueue,
    room: Arc<str>,
}

impl RunQueue {
    pub fn new(concurrency: usize, capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State {
                concurrency: concurrency.max(1),
                capacity,
                running: 0,
                busy_rooms: HashSet::new(),
                waiting: VecDeque::new(),
            })),
        }
    }

    /// Joins the queue for a run in `room`; a run that may start at once gets its slot
    /// straight away (position 0).
    pub fn join(&self, room: Arc<str>) -> Result<Ticket, QueueFull> {
        let mut state = self.inner.lock().expect("run queue lock");
        let (go, turn) = oneshot::channel();
        let (position_tx, position) = watch::channel(0);
        if state.can_start(&room) && state.waiting.iter().all(|waiter| waiter.room != room) {
            state.start(&room);
            let _ = go.send(Slot {
                queue: self.clone(),
                room,
            });
            return Ok(Ticket { position, turn });
        }
        if state.waiting.len() >= state.capacity {
            return Err(QueueFull);
        }
        let _ = position_tx.send(state.waiting.len() + 1);
        state.waiting.push_back(Waiter {
            room,
            go,
            position: position_tx,
        });
        Ok(Ticket { position, turn })
    }

    /// Runs going on and runs waiting.
    #[cfg(test)]
    pub fn load(&self) -> (usize, usize) {
        let state = self.inner.lock().expect("run queue lock");
        (state.running, state.waiting.len())
    }

    fn release(&self, room: &Arc<str>) {
        let mut state = self.inner.lock().expect("run queue lock");
        state.running -= 1;
        state.busy_rooms.remove(room);
        self.dispatch(&mut state);
    }

    /// Starts every waiting run that may start, in order, then tells the rest where they
    /// stand. A waiter who gave up (its ticket dropped) is skipped.
    fn dispatch(&self, state: &mut State) {
        let mut index = 0;
        while index < state.waiting.len() && state.running < state.concurrency {
            if state.waiting[index].go.is_closed() {
                state.waiting.remove(index);
                continue;
            }
            if !state.can_start(&state.waiting[index].room) {
                index += 1;
                continue;
            }
            let waiter = state.waiting.remove(index).expect("index within the list");
            state.start(&waiter.room);
            let slot = Slot {
                queue: self.clone(),
                room: waiter.room.clone(),
            };
            if let Err(slot) = waiter.go.send(slot) {
                // It gave up just now: its slot goes to the next one.
                drop(slot);
            }
        }
        state.waiting.retain(|waiter| !waiter.go.is_closed());
        for (index, waiter) in state.waiting.iter().enumerate() {
            waiter.position.send_if_modified(|position| {
                let changed = *position != index + 1;
                *position = index + 1;
                changed
            });
        }
    }
}

impl State {
    fn can_start(&self, room: &Arc<str>) -> bool {
        self.running < self.concurrency && !self.busy_rooms.contains(room)
    }

    fn start(&mut self, room: &Arc<str>) {
        self.running += 1;
        self.busy_rooms.insert(room.clone());
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.queue.release(&self.room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> Arc<str> {
        Arc::from(name)
    }

    #[tokio::test]
    async fn one_run_per_room_and_at_most_the_concurrency_at_once() {
        let queue = RunQueue::new(2, 10);
        let a1 = queue.join(room("a")).unwrap().turn.await.unwrap();
        let a2 = queue.join(room("a")).unwrap();
        let b1 = queue.join(room("b")).unwrap().turn.await.unwrap();
        let c1 = queue.join(room("c")).unwrap();
        assert_eq!(*a2.position.borrow(), 1, "a's second run waits for a's first");
        assert_eq!(*c1.position.borrow(), 2, "c waits: two runs are going on");
        assert_eq!(queue.load(), (2, 2));

        drop(b1);
        // a is still busy, so c (behind a2 in the list) starts first.
        let mut c1 = c1;
        let _c = (&mut c1.turn).await.unwrap();
        assert_eq!(*a2.position.borrow(), 1);
        drop(a1);
        let mut a2 = a2;
        let _a2 = (&mut a2.turn).await.unwrap();
        assert_eq!(queue.load(), (2, 0));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_and_a_runner_that_gives_up_leaves_it() {
        let queue = RunQueue::new(1, 1);
        let first = queue.join(room("a")).unwrap().turn.await.unwrap();
        let gives_up = queue.join(room("b")).unwrap();
        assert_eq!(queue.join(room("c")).err(), Some(QueueFull));
        drop(gives_up);
        drop(first);
        let next = queue.join(room("c")).unwrap();
        next.turn
            .await
            .expect("the slot of the one who gave up is not lost");
    }
}
