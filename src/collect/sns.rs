//! SNS: whether a topic delivers its messages to anyone.

use aws_sdk_sns::types::Subscription;

use super::errors::{CallFailure, NotConfigured};
use super::{Ctx, arn_region};
use crate::model::schema::ops;

/// SNS's answer when the topic does not exist: nobody receives what is
/// sent to it.
const TOPIC_NOT_FOUND: &[&str] = &["NotFound"];

/// Whether `topic_arn` has at least one confirmed subscription, from every
/// page of ListSubscriptionsByTopic in the topic's region (when audited;
/// else in `region`, where the caller found it named).
pub(crate) async fn has_confirmed_subscription(
    ctx: &Ctx<'_>,
    region: &str,
    topic_arn: &str,
) -> Result<bool, CallFailure> {
    let topic_region = arn_region(topic_arn)
        .filter(|r| ctx.is_audited(r))
        .unwrap_or(region);
    let mut pages = ctx
        .clients(topic_region)
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(topic_arn)
        .into_paginator()
        .send();
    ctx.ask_pages(
        &ops::SNS_LIST_SUBSCRIPTIONS_BY_TOPIC,
        topic_region,
        |cx| pages.poll_next(cx),
        |p| p.next_token(),
        NotConfigured::When(TOPIC_NOT_FOUND, false),
        |pages| {
            Ok(pages
                .iter()
                .flat_map(|p| p.subscriptions())
                .any(is_confirmed))
        },
    )
    .await
}

/// A confirmed subscription has an ARN; one awaiting confirmation has
/// `PendingConfirmation` in its place (and one being removed, `Deleted`).
fn is_confirmed(subscription: &Subscription) -> bool {
    subscription
        .subscription_arn()
        .is_some_and(|arn| arn.starts_with("arn:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_subscriptions_with_an_arn_are_confirmed() {
        let with = |arn: &str| Subscription::builder().subscription_arn(arn).build();
        assert!(is_confirmed(&with(
            "arn:aws:sns:eu-west-1:123456789012:alerts:6b0e71bd-7e97-4d97-80ce-4a0994e55286"
        )));
        assert!(!is_confirmed(&with("PendingConfirmation")));
        assert!(!is_confirmed(&with("Deleted")));
        assert!(!is_confirmed(&Subscription::builder().build()));
    }
}
