//! backstop: audits the backup and disaster-recovery posture of an AWS account.

pub mod audit;
pub mod cli;
pub mod collect;
pub mod config;
pub mod demo;
pub mod describe;
pub mod gate;
pub mod input;
pub mod lang;
pub mod model;
pub mod plan;
pub mod render;
pub mod report;
pub mod rules;
