//! `doorstep-lock`: pair a simulated lock + camera with the cloud, then run it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "doorstep-lock",
    version,
    about = "The Doorstep lock and camera agent (simulated hardware)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Pair with a household using the one-time code from the app.
    Pair {
        /// The cloud's URL, e.g. http://127.0.0.1:8787
        #[arg(long)]
        cloud: String,
        /// The pairing code.
        #[arg(long)]
        code: String,
        /// Where the lock keeps its keys and journal.
        #[arg(long)]
        data_dir: PathBuf,
        /// A CA certificate (PEM) to trust for the cloud's HTTPS, besides the public roots.
        #[arg(long)]
        ca_cert: Option<PathBuf>,
    },
    /// Run the lock. Prints the control interface's address on its first line.
    Run {
        /// The paired lock's folder.
        #[arg(long)]
        data_dir: PathBuf,
        /// Where the control interface listens (loopback only).
        #[arg(long, default_value = "127.0.0.1:0")]
        control: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOORSTEP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr, reason = "the person must see why it stopped")]
            {
                eprintln!("doorstep-lock: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout, reason = "scripts read these lines")]
async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Pair {
            cloud,
            code,
            data_dir,
            ca_cert,
        } => {
            let paired =
                doorstep_lock::identity::Paired::pair(&cloud, &code, &data_dir, ca_cert.as_deref())
                    .await?;
            println!(
                "paired lock {} ({}) to household {}",
                paired.identity.lock_id, paired.identity.name, paired.identity.household_id
            );
            Ok(())
        }
        Command::Run { data_dir, control } => {
            let listener = tokio::net::TcpListener::bind(&control)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {control}: {e}"))?;
            if !listener.local_addr()?.ip().is_loopback() {
                anyhow::bail!("the control interface must listen on loopback, not {control}");
            }
            let agent = doorstep_lock::agent::Agent::open(
                &data_dir,
                std::sync::Arc::new(doorstep_lock::clock::LockClock::open(&data_dir)),
            )?;
            println!("control on http://{}", listener.local_addr()?);
            agent.run(listener).await
        }
    }
}
