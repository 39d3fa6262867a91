-- Labels on handoffs ("refund", "vip", "bug"): what the team files a case under, to find it
-- again and to count. Kept as the handoff's normalised labels joined by commas, sorted, so a
-- handoff reads them with no join; the list filters on them within one workspace.
ALTER TABLE handoffs ADD COLUMN labels TEXT NOT NULL DEFAULT '';
