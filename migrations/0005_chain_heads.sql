CREATE TABLE `chain_heads` (
	`manifest_hash` text PRIMARY KEY NOT NULL,
	`network` text NOT NULL,
	`head_block` integer NOT NULL,
	`observed_at` text NOT NULL
);
