CREATE TABLE `schedules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`revision` text NOT NULL,
	`cron` text NOT NULL,
	`timezone` text NOT NULL,
	`end_block` text,
	`parallelism` integer NOT NULL,
	`enabled` integer NOT NULL,
	`next_run_at` text,
	`last_due_at` text,
	`last_run_at` text,
	`last_outcome` text,
	`last_job_id` integer,
	`last_message` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `schedules_revision_idx` ON `schedules` (`namespace`,`name`,`revision`);--> statement-breakpoint
CREATE INDEX `schedules_due_idx` ON `schedules` (`enabled`,`next_run_at`);