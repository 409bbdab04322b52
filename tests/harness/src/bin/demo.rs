//! `make demo`: see the whole system work on this machine (no AWS account, no Docker).

use std::process::ExitCode;

use harness::demo::Demo;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> harness::Result<()> {
    println!("Starting local Partner Central, moto (EventBridge, SQS, DynamoDB) and the Lambda runtime…");
    let mut demo = Demo::start().await?;
    println!(
        "Ready: emulator {} · moto {} · consumer queue behind a rule on the custom bus",
        demo.stack.emulator.url(),
        demo.stack.moto.endpoint()
    );
    // One act per function that was built, in order.
    if demo.has_function("list-and-publish") {
        harness::demo::list_and_publish::act(&mut demo).await?;
    }
    if demo.has_function("expire-sweeper") {
        harness::demo::expire_sweeper::act(&mut demo).await?;
    }
    if demo.has_function("auto-cancel") {
        harness::demo::auto_cancel::act(&mut demo).await?;
    }
    if demo.has_function("native-relay") && demo.has_function("list-and-publish") {
        harness::demo::native_relay::act(&mut demo).await?;
    }
    if demo.has_function("auto-respond") {
        harness::demo::auto_respond::act(&mut demo).await?;
        harness::demo::auto_respond_connections::act(&mut demo).await?;
    }
    // People in the loop: a referral the policy asks about, notify's rendering, the command
    // from the notification approving it.
    if demo.has_function("auto-respond") && demo.has_function("notify") {
        harness::demo::approval::act(&mut demo).await?;
    }
    // How fast the acts above answered (the digest's figures).
    if demo.has_function("expire-sweeper") {
        harness::demo::approval::answer_times(&mut demo).await?;
    }
    demo.finish().await
}
