//! Baton's integration tests: one binary, each test with its own server on port 0 and its own
//! database. `BATON_TEST_DATABASE=postgres` runs the same tests on PostgreSQL.

mod fake_openai;
mod fake_site;
mod helpers;

mod accounts;
mod assignment;
mod bots;
mod browser;
mod business_hours;
mod channels;
mod cli;
mod contacts;
mod dashboard;
mod demo;
mod erasure;
mod fake_graph;
mod files;
mod handoff;
mod input;
mod knowledge;
mod labels;
mod llm;
mod realtime;
mod reports;
mod satisfaction;
mod saved_replies;
mod search;
mod store;
mod team;
mod tenancy;
mod typing;
mod webhooks;
mod whatsapp;
mod widget;
