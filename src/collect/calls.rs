//! How the collectors call AWS: every call counted, every call (and every
//! page of a listing) within the run's limits (a slot per account, region
//! and service, and a global one: see `limits`), listings read to their
//! last page, and answers read into facts or failures.
//!
//! A detail call goes through [`Ctx::fetch`] (or, when one answer serves
//! several resources, [`Ctx::ask`]): it is made only when the plan needs
//! it, its answer is mapped to a fact, the service's documented "not
//! configured" answers are a known absence, and any other error is a
//! failure recorded against the resources whose attributes it leaves
//! unknown, never a default.
//!
//! Two reads keep their own handling, for reasons of the API: S3
//! `HeadBucket` (a bucket's region comes from the answer's header, also on
//! an error, and a 404 means the bucket is gone) and Logs
//! `DescribeAccountPolicies` (the SDK has no paginator for it).

use std::collections::HashSet;
use std::future::Future;
use std::task::{Context, Poll};

use futures::StreamExt;

use super::errors::{CallFailure, NotConfigured, Target, detail_error, listing_error};
use super::limits::Slot;
use super::{Ctx, HttpResponse, ProvideErrorMetadata, SdkError};
use crate::model::schema::{Operation, ResourceType};

/// Why a listing whose service repeated a continuation token is an error.
pub(crate) const REPEATED_TOKEN: &str =
    "the service repeated a continuation token, so the listing may be incomplete";

impl Ctx<'_> {
    /// Counts one call (or one page) of `op`.
    pub fn count(&self, op: &Operation) {
        self.run.count(op);
    }

    /// Waits until a call of `op` in `region` may start.
    pub async fn slot(&self, op: &Operation, region: &str) -> Slot<'_> {
        self.run
            .limits
            .slot(&self.account, region, op.service)
            .await
    }

    /// Reads the details of listed resources, [`Ctx::concurrency`] at a
    /// time, in no particular order. Their number counts towards the
    /// progress display's total as soon as they are listed.
    pub async fn read_each<T, F: Future>(
        &self,
        listed: impl IntoIterator<Item = T>,
        read: impl FnMut(T) -> F,
    ) -> Vec<F::Output> {
        let listed: Vec<T> = listed.into_iter().collect();
        self.progress.expect_details(listed.len());
        futures::stream::iter(listed)
            .map(read)
            .buffer_unordered(self.concurrency)
            .inspect(|_| self.progress.detail_done())
            .collect()
            .await
    }

    /// Makes one non-paginated call in `region` within the limits. The
    /// SDK starts `call` (and its timeout) only once it is polled, after
    /// the slot is won.
    pub async fn detail<F: Future>(&self, op: &Operation, region: &str, call: F) -> F::Output {
        let _slot = self.slot(op, region).await;
        let out = call.await;
        self.count(op);
        out
    }

    /// Collects every page of a listing, counting each page as a call. A
    /// failed page fails the whole listing (never a partial list that looks
    /// complete).
    ///
    /// `poll_page` polls the SDK paginator's stream (`|cx|
    /// pages.poll_next(cx)`: that stream is no `futures::Stream`, and its
    /// type lives in a crate backstop does not depend on, so a closure
    /// stands for it); `next` reads a page's continuation token. A
    /// token the service already sent means the listing goes round in a
    /// cycle (A, B, A, ...): it stops there, and is an error. The SDK's
    /// paginators themselves only stop when a token repeats the one just
    /// sent, and then quietly; a last page that still carries a token
    /// therefore means the listing was cut short, which is an error too.
    pub async fn all_pages<P, E>(
        &self,
        op: &Operation,
        region: &str,
        mut poll_page: impl FnMut(&mut Context<'_>) -> Poll<Option<Result<P, SdkError<E>>>>,
        next: impl Fn(&P) -> Option<&str>,
    ) -> Result<Vec<P>, SdkError<E>> {
        let mut pages = Vec::new();
        let mut seen = SeenTokens::default();
        loop {
            // One slot per page: the paginator asks for the next page only
            // when polled again.
            let slot = self.slot(op, region).await;
            let Some(page) = std::future::poll_fn(&mut poll_page).await else {
                break;
            };
            drop(slot);
            self.count(op);
            let page = page?;
            let again = !seen.first_time(&page, &next);
            pages.push(page);
            if again {
                break;
            }
        }
        if ends_with_token(&pages, &next) {
            let answer =
                HttpResponse::new(200u16.try_into().expect("200 is a status code"), "".into());
            return Err(SdkError::response_error(REPEATED_TOKEN, answer));
        }
        Ok(pages)
    }

    /// [`Ctx::all_pages`] of a listing of `kind` in `region`; a failure is
    /// recorded as a listing error (nothing of `kind` there is known) and
    /// returned.
    pub async fn list<P, E>(
        &self,
        op: &Operation,
        region: &str,
        kind: &ResourceType,
        poll_page: impl FnMut(&mut Context<'_>) -> Poll<Option<Result<P, SdkError<E>>>>,
        next: impl Fn(&P) -> Option<&str>,
    ) -> Result<Vec<P>, CallFailure>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.all_pages(op, region, poll_page, next)
            .await
            .map_err(|err| {
                let failure = CallFailure::from_sdk(&err);
                self.record(listing_error(op, region, kind, failure.clone()));
                failure
            })
    }

    /// Makes one detail call whose answer may serve several resources, and
    /// reads it: `map` turns the answer into a fact (or finds it wanting),
    /// `not_configured` says which error answers are a known absence. Does
    /// not consult the plan and records nothing.
    pub async fn ask<O, E, T>(
        &self,
        op: &Operation,
        region: &str,
        call: impl Future<Output = Result<O, SdkError<E>>>,
        not_configured: NotConfigured<T>,
        map: impl FnOnce(O) -> Result<T, CallFailure>,
    ) -> Result<T, CallFailure>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match self.detail(op, region, call).await {
            Ok(answer) => map(answer),
            Err(err) => not_configured.absence(&err),
        }
    }

    /// [`Ctx::ask`] for a paginated detail call: `map` reads every page.
    pub async fn ask_pages<P, E, T>(
        &self,
        op: &Operation,
        region: &str,
        poll_page: impl FnMut(&mut Context<'_>) -> Poll<Option<Result<P, SdkError<E>>>>,
        next: impl Fn(&P) -> Option<&str>,
        not_configured: NotConfigured<T>,
        map: impl FnOnce(Vec<P>) -> Result<T, CallFailure>,
    ) -> Result<T, CallFailure>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match self.all_pages(op, region, poll_page, next).await {
            Ok(pages) => map(pages),
            Err(err) => not_configured.absence(&err),
        }
    }

    /// Reads attributes of `target` with one detail call, when the plan
    /// needs `op` (see [`Ctx::ask`]). `None` when the call was not made or
    /// failed; a failure is recorded against `target`.
    pub async fn fetch<O, E, T>(
        &self,
        op: &Operation,
        target: Target<'_>,
        call: impl Future<Output = Result<O, SdkError<E>>>,
        not_configured: NotConfigured<T>,
        map: impl FnOnce(O) -> Result<T, CallFailure>,
    ) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if !self.plan.needs(op) {
            return None;
        }
        let read = self.ask(op, target.region, call, not_configured, map).await;
        self.keep(op, target, read)
    }

    /// The fact a call about `target` read, or `None` once its failure is
    /// recorded.
    pub fn keep<T>(
        &self,
        op: &Operation,
        target: Target<'_>,
        read: Result<T, CallFailure>,
    ) -> Option<T> {
        read.map_err(|failure| self.record(detail_error(op, target, failure)))
            .ok()
    }
}

/// The continuation tokens a listing has received so far.
#[derive(Default)]
pub(crate) struct SeenTokens(HashSet<String>);

impl SeenTokens {
    /// Notes `page`'s token; false when it was already received (the
    /// listing cycles). A page without a token ends the listing: true.
    pub(crate) fn first_time<P>(&mut self, page: &P, next: impl Fn(&P) -> Option<&str>) -> bool {
        match next(page).filter(|t| !t.is_empty()) {
            None => true,
            Some(token) => self.0.insert(token.to_string()),
        }
    }
}

/// Whether the last page of a listing still names a next page.
fn ends_with_token<P>(pages: &[P], next: impl Fn(&P) -> Option<&str>) -> bool {
    pages
        .last()
        .and_then(next)
        .is_some_and(|token| !token.is_empty())
}
