//! backstop: audits the backup and disaster-recovery posture of an AWS account.

pub mod model;
pub mod rules;
pub mod report;
pub mod verdict;
