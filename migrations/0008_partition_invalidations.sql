CREATE TABLE `partition_invalidations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`location_id` integer NOT NULL,
	`range_start` integer NOT NULL,
	`range_end` integer NOT NULL,
	`file_id_ceiling` integer NOT NULL,
	`reason` text NOT NULL,
	`requested_by` text NOT NULL,
	`cause_id` integer,
	`created_at` text NOT NULL,
	FOREIGN KEY (`location_id`) REFERENCES `locations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `partition_invalidations_location_idx` ON `partition_invalidations` (`location_id`,`range_start`);