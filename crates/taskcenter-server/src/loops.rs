//! Runs the service's background loops: started in the order given, stopped in the reverse
//! order, each joined before the next is asked to stop, so a loop never outlives the ones
//! it depends on.

use std::sync::Arc;

use taskcenter_store::Background;
use tokio::task::JoinHandle;

/// The running loops, in start order.
#[derive(Default)]
pub struct Loops {
    running: Vec<(Arc<dyn Background>, JoinHandle<()>)>,
}

impl Loops {
    /// Starts `component` after every loop started before it.
    pub fn start(&mut self, component: Arc<dyn Background>) {
        let runner = component.clone();
        let handle = tokio::spawn(async move { runner.run().await });
        tracing::debug!(component = component.name(), "loop started");
        self.running.push((component, handle));
    }

    /// Starts each of `components`, in order.
    pub fn start_all(&mut self, components: impl IntoIterator<Item = Arc<dyn Background>>) {
        for component in components {
            self.start(component);
        }
    }

    /// Names of the running loops, in start order.
    pub fn names(&self) -> Vec<&'static str> {
        self.running.iter().map(|(c, _)| c.name()).collect()
    }

    /// Stops every loop, the last started first, waiting for each to return.
    pub async fn stop(mut self) {
        while let Some((component, handle)) = self.running.pop() {
            component.shutdown();
            if let Err(e) = handle.await {
                tracing::error!(component = component.name(), error = %e, "loop failed");
            } else {
                tracing::debug!(component = component.name(), "loop stopped");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use tokio_util::sync::CancellationToken;

    use super::*;

    struct Probe {
        name: &'static str,
        stop: CancellationToken,
        log: Arc<Mutex<Vec<String>>>,
    }

    #[async_trait]
    impl Background for Probe {
        fn name(&self) -> &'static str {
            self.name
        }

        async fn run(&self) {
            self.stop.cancelled().await;
            // Yield so a loop stopped out of order would show in the log.
            tokio::task::yield_now().await;
            self.log
                .lock()
                .expect("log")
                .push(format!("{} returned", self.name));
        }

        fn shutdown(&self) {
            self.log
                .lock()
                .expect("log")
                .push(format!("{} asked", self.name));
            self.stop.cancel();
        }
    }

    #[tokio::test]
    async fn loops_stop_in_reverse_start_order_each_joined_before_the_next() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut loops = Loops::default();
        for name in ["store", "engine", "janitor"] {
            loops.start(Arc::new(Probe {
                name,
                stop: CancellationToken::new(),
                log: log.clone(),
            }));
        }
        assert_eq!(loops.names(), ["store", "engine", "janitor"]);
        loops.stop().await;
        assert_eq!(
            *log.lock().expect("log"),
            [
                "janitor asked",
                "janitor returned",
                "engine asked",
                "engine returned",
                "store asked",
                "store returned"
            ]
        );
    }
}
