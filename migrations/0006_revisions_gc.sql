CREATE TABLE `gc_scheduled_files` (
	`file_id` integer PRIMARY KEY NOT NULL,
	`location_id` integer NOT NULL,
	`expires_at` text NOT NULL,
	FOREIGN KEY (`file_id`) REFERENCES `files`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`location_id`) REFERENCES `locations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `gc_scheduled_files_expiry_idx` ON `gc_scheduled_files` (`expires_at`);