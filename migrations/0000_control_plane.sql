CREATE TABLE `dataset_manifests` (
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`namespace`, `name`, `hash`),
	FOREIGN KEY (`hash`) REFERENCES `manifest_files`(`hash`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `dataset_manifests_hash_idx` ON `dataset_manifests` (`hash`);--> statement-breakpoint
CREATE TABLE `manifest_files` (
	`hash` text PRIMARY KEY NOT NULL,
	`path` text NOT NULL,
	`kind` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `providers` (
	`name` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`network` text NOT NULL,
	`config` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tags` (
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`version` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`namespace`, `name`, `version`),
	FOREIGN KEY (`namespace`,`name`,`hash`) REFERENCES `dataset_manifests`(`namespace`,`name`,`hash`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tags_hash_idx` ON `tags` (`hash`);