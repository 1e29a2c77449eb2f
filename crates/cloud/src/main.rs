//! `doorstep-cloud`: the cloud API server's command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "doorstep-cloud",
    version,
    about = "The Doorstep cloud API server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API. Prints the bound address on its first line of output.
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
        /// Folder for the SQLite database and the signing key.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Settings file (TOML); see doorstep-cloud.example.toml.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Register a carrier; prints its API key, webhook secret and shipment-signing key once.
    CarrierAdd {
        /// The carrier's name, as shown to households (e.g. "DHL").
        name: String,
        /// Where reroute notices are POSTed.
        #[arg(long)]
        webhook: Option<String>,
        /// The carrier's own shipment-signing public key (base64url); without it a
        /// key pair is made and its private half printed once, for the carrier.
        #[arg(long, allow_hyphen_values = true)]
        public_key: Option<String>,
        /// Folder of the SQLite database.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Settings file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Add a shipment-signing key to a carrier (key rotation): households pin it
    /// when they next save their policy. Prints the key's fingerprint.
    CarrierKeyAdd {
        /// The carrier's name.
        name: String,
        /// The new public key (base64url); without it a key pair is made and its
        /// private half printed once.
        #[arg(long, allow_hyphen_values = true)]
        public_key: Option<String>,
        /// Folder of the SQLite database.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Settings file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// The database an operator command works on: the settings file's, moved by `--data-dir`.
async fn open_db(
    config: Option<&std::path::Path>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<doorstep_cloud::db::Db> {
    let mut settings = doorstep_cloud::Settings::load(config)?;
    if let Some(data_dir) = data_dir {
        settings.data_dir = data_dir;
    }
    doorstep_cloud::db::Db::open(settings.database_url.as_deref(), &settings.data_dir).await
}

/// The key a carrier signs shipments with: the one given, or a new pair whose
/// private half is returned for printing once.
fn carrier_key(
    public_key: Option<&str>,
) -> anyhow::Result<(
    doorstep_proto::PublicKey,
    Option<doorstep_proto::SigningKey>,
)> {
    match public_key {
        Some(text) => Ok((
            doorstep_proto::PublicKey::from_base64(text.trim())
                .map_err(|e| anyhow::anyhow!("--public-key: {e}"))?,
            None,
        )),
        None => {
            let key = doorstep_proto::SigningKey::generate();
            Ok((key.public_key(), Some(key)))
        }
    }
}

#[allow(clippy::print_stdout, reason = "the operator copies these once")]
fn print_carrier_key(
    public: &doorstep_proto::PublicKey,
    private: Option<&doorstep_proto::SigningKey>,
) {
    use base64::Engine;
    println!("shipment_public_key={}", public.to_base64());
    println!("shipment_key_fingerprint={}", public.fingerprint());
    if let Some(private) = private {
        println!(
            "shipment_signing_key={}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(private.to_seed())
        );
    }
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
            tracing::error!("{e:#}");
            #[allow(clippy::print_stderr, reason = "the operator must see why it stopped")]
            {
                eprintln!("doorstep-cloud: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            listen,
            data_dir,
            config,
        } => {
            let mut settings = doorstep_cloud::Settings::load(config.as_deref())?;
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            if let Some(data_dir) = data_dir {
                settings.data_dir = data_dir;
            }
            let listener = tokio::net::TcpListener::bind(&settings.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
            // Signal handlers first: a script may stop us as soon as it reads the address.
            use tokio::signal::unix::{SignalKind, signal};
            let mut terminate = signal(SignalKind::terminate())?;
            let mut interrupt = signal(SignalKind::interrupt())?;
            let cloud = doorstep_cloud::start(listener, settings).await?;
            #[allow(
                clippy::print_stdout,
                reason = "scripts read the bound address from the first line"
            )]
            {
                println!("listening on {}", cloud.url());
            }
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            tracing::info!("shutting down");
            cloud.stop().await;
            Ok(())
        }
        Command::CarrierAdd {
            name,
            webhook,
            public_key,
            data_dir,
            config,
        } => {
            let (public, private) = carrier_key(public_key.as_deref())?;
            let allow_private =
                doorstep_cloud::Settings::load(config.as_deref())?.webhooks_allow_private;
            let db = open_db(config.as_deref(), data_dir).await?;
            let operator = doorstep_cloud::operator::Operator::new(&db);
            let carrier = operator
                .add_carrier(
                    &name,
                    webhook.as_deref(),
                    allow_private,
                    doorstep_proto::Clock::read(&doorstep_proto::SystemClock)
                        .now
                        .0,
                )
                .await?;
            #[allow(clippy::print_stdout, reason = "the operator copies these once")]
            {
                println!("carrier_id={}", carrier.id);
                println!("api_key={}", carrier.api_key);
                println!("webhook_secret={}", carrier.webhook_secret);
            }
            let now = doorstep_proto::Clock::read(&doorstep_proto::SystemClock)
                .now
                .0;
            operator.add_carrier_key(&name, &public, now).await?;
            print_carrier_key(&public, private.as_ref());
            Ok(())
        }
        Command::CarrierKeyAdd {
            name,
            public_key,
            data_dir,
            config,
        } => {
            let (public, private) = carrier_key(public_key.as_deref())?;
            let db = open_db(config.as_deref(), data_dir).await?;
            let now = doorstep_proto::Clock::read(&doorstep_proto::SystemClock)
                .now
                .0;
            doorstep_cloud::operator::Operator::new(&db)
                .add_carrier_key(&name, &public, now)
                .await?;
            print_carrier_key(&public, private.as_ref());
            Ok(())
        }
    }
}
