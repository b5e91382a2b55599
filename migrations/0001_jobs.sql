CREATE TABLE `files` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`location_id` integer NOT NULL,
	`file_name` text NOT NULL,
	`range_start` integer NOT NULL,
	`range_end` integer NOT NULL,
	`end_hash` text NOT NULL,
	`prev_hash` text,
	`row_count` integer NOT NULL,
	`object_size` integer,
	`object_e_tag` text,
	`object_version` text,
	`metadata` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`location_id`) REFERENCES `locations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `files_location_name_idx` ON `files` (`location_id`,`file_name`);--> statement-breakpoint
CREATE INDEX `files_location_range_idx` ON `files` (`location_id`,`range_end`);--> statement-breakpoint
CREATE TABLE `job_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` integer NOT NULL,
	`kind` text NOT NULL,
	`detail` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `job_events_job_idx` ON `job_events` (`job_id`,`id`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`manifest_hash` text NOT NULL,
	`descriptor` text NOT NULL,
	`status` text NOT NULL,
	`failure_reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `jobs_manifest_status_idx` ON `jobs` (`manifest_hash`,`status`);--> statement-breakpoint
CREATE INDEX `jobs_status_idx` ON `jobs` (`status`);--> statement-breakpoint
CREATE TABLE `location_progress` (
	`location_id` integer PRIMARY KEY NOT NULL,
	`start_block` integer,
	`current_block` integer,
	`files_count` integer NOT NULL,
	`total_size_bytes` integer NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`location_id`) REFERENCES `locations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `locations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`manifest_hash` text NOT NULL,
	`table_name` text NOT NULL,
	`dataset_namespace` text NOT NULL,
	`dataset_name` text NOT NULL,
	`bucket` text NOT NULL,
	`path` text NOT NULL,
	`url` text NOT NULL,
	`active` integer NOT NULL,
	`writer` integer,
	`created_at` text NOT NULL,
	FOREIGN KEY (`writer`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `locations_url_unique` ON `locations` (`url`);--> statement-breakpoint
CREATE UNIQUE INDEX `locations_one_active_idx` ON `locations` (`manifest_hash`,`table_name`) WHERE "locations"."active" = 1;--> statement-breakpoint
CREATE INDEX `locations_writer_idx` ON `locations` (`writer`);--> statement-breakpoint
CREATE TABLE `workers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`node_id` text NOT NULL,
	`info` text NOT NULL,
	`created_at` text NOT NULL,
	`registered_at` text NOT NULL,
	`heartbeat_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workers_node_id_unique` ON `workers` (`node_id`);