CREATE TABLE `gc_deleted_locations` (
	`url` text PRIMARY KEY NOT NULL,
	`path` text NOT NULL,
	`deleted_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `gc_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`older_than_secs` integer NOT NULL,
	`cutoff` text NOT NULL,
	`scheduled_for` text,
	`files_removed` integer NOT NULL,
	`objects_removed` integer NOT NULL,
	`bytes_removed` integer NOT NULL,
	`error` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`finished_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `gc_runs_scheduled_for_unique` ON `gc_runs` (`scheduled_for`);