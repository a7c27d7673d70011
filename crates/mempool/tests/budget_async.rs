//! `BufferPool::get_async`: waking, FIFO order with blocking gets, close, and
//! cancellation at every stage leaving the budget exact.
#![cfg(feature = "async")]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use mempool::{BudgetStats, BufferPool, PoolError};
use mempool_test_support::wait_until_async;

fn budget(pool: &BufferPool) -> BudgetStats {
    pool.stats().budget.expect("the pool has a budget")
}

fn build(limit: u64) -> BufferPool {
    BufferPool::builder()
        .bucket_sizes([10, 100])
        .memory_budget(limit)
        .build()
        .unwrap()
}

/// A `&'static` pool of its own for each call site, so that its guards and
/// futures can move into spawned tasks and threads. A static rather than a
/// leaked box keeps valgrind's leak check clean.
macro_rules! pool {
    ($limit:expr) => {{
        static POOL: std::sync::OnceLock<BufferPool> = std::sync::OnceLock::new();
        POOL.get_or_init(|| build($limit))
    }};
}

#[tokio::test]
async fn ready_at_once_when_the_budget_has_room() {
    let pool = pool!(100);
    let buf = pool.get_async(7).await.unwrap();
    assert_eq!((buf.len(), buf.capacity()), (7, 10));
    assert_eq!(budget(pool).in_use, 10);
    drop(buf);
    assert_eq!(budget(pool).in_use, 0);
    // Without a budget it is a plain get.
    let plain = BufferPool::new();
    assert_eq!(plain.get_async(5).await.unwrap().len(), 5);
    // Errors that waiting cannot fix come at once.
    assert!(matches!(
        pool.get_async(101).await.unwrap_err(),
        PoolError::ExceedsBudget { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_on_another_thread_wakes_the_task() {
    let pool = pool!(10);
    let held = pool.get(10);
    let waiter = tokio::spawn(async move { pool.get_async(10).await.map(|buf| buf.capacity()) });
    wait_until_async("the task to queue", || budget(pool).waiting == 1).await;
    let releaser = std::thread::spawn(move || drop(held));
    releaser.join().unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("the drop woke the task")
        .unwrap();
    assert_eq!(got, Ok(10));
    let figures = budget(pool);
    assert_eq!(
        (figures.in_use, figures.waiting, figures.waits_total),
        (0, 0, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_timeout_cancels_cleanly() {
    let pool = pool!(10);
    let held = pool.get(10);
    for _ in 0..5 {
        let result = tokio::time::timeout(Duration::from_millis(10), pool.get_async(10)).await;
        assert!(result.is_err(), "nothing should have been free");
    }
    let figures = budget(pool);
    assert_eq!(
        (figures.waiting, figures.cancelled_total, figures.in_use),
        (0, 5, 10)
    );
    drop(held);
    assert_eq!(budget(pool).available, 10);
}

#[test]
fn dropping_a_granted_but_unpolled_future_refunds_its_bytes() {
    let pool = pool!(10);
    let held = pool.get(10);
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = Box::pin(pool.get_async(10));
    assert!(future.as_mut().poll(&mut cx).is_pending());
    assert_eq!(budget(pool).waiting, 1);
    // The drop grants the bytes to the queued future...
    drop(held);
    let granted = budget(pool);
    assert_eq!((granted.waiting, granted.in_use), (0, 10));
    // ...which is cancelled before it collects them.
    drop(future);
    let figures = budget(pool);
    assert_eq!(
        (figures.in_use, figures.available, figures.cancelled_total),
        (0, 10, 1)
    );
    assert_eq!(pool.stats().in_use, 0);
}

#[test]
fn a_cancelled_head_lets_the_next_waiter_in() {
    let pool = pool!(100);
    let held: Vec<_> = (0..5).map(|_| pool.get(10)).collect();
    let mut cx = Context::from_waker(Waker::noop());
    // The 100-byte head blocks the 10-byte waiter behind it.
    let mut head = Box::pin(pool.get_async(100));
    let mut behind = pin!(pool.get_async(10));
    assert!(head.as_mut().poll(&mut cx).is_pending());
    assert!(behind.as_mut().poll(&mut cx).is_pending());
    assert_eq!(budget(pool).waiting, 2);
    drop(head);
    match behind.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(buf)) => assert_eq!(buf.capacity(), 10),
        other => panic!("expected the buffer, got {other:?}"),
    }
    drop(held);
    let figures = budget(pool);
    assert_eq!((figures.in_use, figures.waiting), (0, 0));
}

#[test]
fn async_and_blocking_waiters_share_one_fifo_queue() {
    let pool = pool!(10);
    let held = pool.get(10);
    let mut cx = Context::from_waker(Waker::noop());
    let mut first = Box::pin(pool.get_async(10));
    assert!(first.as_mut().poll(&mut cx).is_pending());
    std::thread::scope(|scope| {
        let second = scope.spawn(|| pool.get_timeout(10, Duration::from_millis(200)));
        let deadline = Instant::now() + Duration::from_secs(10);
        while budget(pool).waiting < 2 {
            assert!(Instant::now() < deadline);
            std::thread::yield_now();
        }
        drop(held);
        // The async waiter came first: the blocking one times out.
        assert!(matches!(
            second.join().unwrap(),
            Err(PoolError::Timeout { .. })
        ));
    });
    assert!(matches!(first.as_mut().poll(&mut cx), Poll::Ready(Ok(_))));
    assert_eq!(budget(pool).in_use, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_fails_every_waiting_task() {
    let pool = pool!(10);
    let held = pool.get(10);
    let tasks: Vec<_> = (0..3)
        .map(|_| tokio::spawn(async move { pool.get_async(10).await.map(drop) }))
        .collect();
    wait_until_async("three tasks to queue", || budget(pool).waiting == 3).await;
    pool.close();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(PoolError::Closed));
    }
    assert_eq!(pool.get_async(1).await.unwrap_err(), PoolError::Closed);
    drop(held);
    assert_eq!(budget(pool).in_use, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_with_random_cancellation_leave_the_budget_exact() {
    let pool = pool!(100);
    let mut tasks = Vec::new();
    for task in 0..32u64 {
        tasks.push(tokio::spawn(async move {
            let mut served = 0;
            for round in 0..40u64 {
                let size = if (task + round) % 5 == 0 { 100 } else { 10 };
                let patience = Duration::from_micros(200 * ((task * 7 + round) % 9));
                if let Ok(Ok(mut buf)) = tokio::time::timeout(patience, pool.get_async(size)).await
                {
                    buf[0] = task as u8 | 1;
                    tokio::task::yield_now().await;
                    served += 1;
                }
            }
            served
        }));
    }
    let mut served = 0;
    for task in tasks {
        served += task.await.unwrap();
    }
    let figures = budget(pool);
    assert!(served > 0);
    assert_eq!(
        (figures.in_use, figures.available, figures.waiting),
        (0, 100, 0)
    );
    assert_eq!(pool.stats().in_use, 0);
    assert_eq!(pool.stats().gets, served);
}
