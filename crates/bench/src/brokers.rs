//! The fan-out floor: the same number of subscribers on a bare NATS server and on
//! Mosquitto, one published message → the last subscriber has it. No database, no
//! authentication, no signatures — what pure message passing costs on this machine.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use testkit::{Guarded, free_port};
use tokio::sync::mpsc;

/// How many subscribers connect at once (a broker's listen backlog is small).
const CONNECTING_AT_ONCE: usize = 100;

/// A broker process of its own on a free port, gone when dropped.
struct Broker {
    port: u16,
    _process: Guarded,
}

impl Broker {
    fn start(program: &str, args: &[&str], port: u16) -> anyhow::Result<Self> {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let process = Guarded::spawn(program, command)
            .with_context(|| format!("{program} is not installed; `make bench` installs it"))?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("{program} did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Self {
            port,
            _process: process,
        })
    }
}

/// The first line `program args…` prints, for the run's header.
pub fn version(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "not installed".into())
}

/// Waits until every subscriber has message `sample`; returns publish → last arrival.
async fn last_arrival(
    arrivals: &mut mpsc::UnboundedReceiver<(u32, Instant)>,
    sample: u32,
    subscribers: usize,
    published: Instant,
) -> anyhow::Result<f64> {
    let mut got = 0;
    let mut last = published;
    while got < subscribers {
        let (n, at) = tokio::time::timeout(Duration::from_secs(10), arrivals.recv())
            .await
            .with_context(|| format!("only {got} of {subscribers} subscribers got the message"))?
            .context("subscribers ended")?;
        if n == sample {
            got += 1;
            last = last.max(at);
        }
    }
    Ok(crate::ms(last - published))
}

fn sample_of(payload: &[u8]) -> u32 {
    std::str::from_utf8(payload)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u32::MAX)
}

/// NATS: `subscribers` connections on one subject; returns one duration per sample (ms).
pub async fn nats(subscribers: usize, samples: u32) -> anyhow::Result<Vec<f64>> {
    let port = free_port()?;
    let broker = Broker::start(
        "nats-server",
        &["-a", "127.0.0.1", "-p", &port.to_string()],
        port,
    )?;
    let url = format!("nats://127.0.0.1:{}", broker.port);
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let clients: Vec<_> = futures_util::stream::iter(0..subscribers)
        .map(|_| {
            let (url, tx) = (url.clone(), tx.clone());
            async move {
                let client = async_nats::connect(&url).await?;
                let mut subscription = client.subscribe("doorstep.bench").await?;
                // A round trip: the server has the subscription before we measure.
                client.flush().await?;
                let task = tokio::spawn(async move {
                    while let Some(message) = subscription.next().await {
                        let _ = tx.send((sample_of(&message.payload), Instant::now()));
                    }
                });
                anyhow::Ok((client, task))
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let publisher = async_nats::connect(&url).await?;
    let mut times = Vec::new();
    for sample in 0..samples {
        let published = Instant::now();
        publisher
            .publish("doorstep.bench", sample.to_string().into())
            .await?;
        publisher.flush().await?;
        times.push(last_arrival(&mut arrivals, sample, subscribers, published).await?);
    }
    for (_, task) in clients {
        task.abort();
    }
    drop(broker);
    Ok(times)
}

/// Mosquitto (MQTT, QoS 0): `subscribers` connections on one topic.
pub async fn mosquitto(subscribers: usize, samples: u32) -> anyhow::Result<Vec<f64>> {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let port = free_port()?;
    let broker = Broker::start("mosquitto", &["-p", &port.to_string()], port)?;
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let connect = |id: String| {
        let mut options = MqttOptions::new(id, "127.0.0.1", broker.port);
        options.set_keep_alive(Duration::from_secs(60));
        AsyncClient::new(options, 16)
    };
    let tasks: Vec<_> = futures_util::stream::iter(0..subscribers)
        .map(|n| {
            let (client, mut eventloop) = connect(format!("bench-sub-{n}"));
            let tx = tx.clone();
            async move {
                client.subscribe("doorstep/bench", QoS::AtMostOnce).await?;
                // Until the broker acknowledges the subscription.
                loop {
                    match eventloop.poll().await? {
                        Event::Incoming(Packet::SubAck(_)) => break,
                        _ => continue,
                    }
                }
                let task = tokio::spawn(async move {
                    let _client = client;
                    while let Ok(event) = eventloop.poll().await {
                        if let Event::Incoming(Packet::Publish(message)) = event {
                            let _ = tx.send((sample_of(&message.payload), Instant::now()));
                        }
                    }
                });
                anyhow::Ok(task)
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let (publisher, mut eventloop) = connect("bench-publisher".into());
    let (sent_tx, mut sent) = mpsc::unbounded_channel();
    let publisher_loop = tokio::spawn(async move {
        while let Ok(event) = eventloop.poll().await {
            if let Event::Outgoing(rumqttc::Outgoing::Publish(_)) = event {
                let _ = sent_tx.send(());
            }
        }
    });
    let mut times = Vec::new();
    for sample in 0..samples {
        let published = Instant::now();
        publisher
            .publish(
                "doorstep/bench",
                QoS::AtMostOnce,
                false,
                sample.to_string().into_bytes(),
            )
            .await?;
        sent.recv().await.context("the publisher stopped")?;
        times.push(last_arrival(&mut arrivals, sample, subscribers, published).await?);
    }
    publisher_loop.abort();
    for task in tasks {
        task.abort();
    }
    drop(broker);
    Ok(times)
}
