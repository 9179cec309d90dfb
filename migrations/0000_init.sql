CREATE TABLE `contacts` (
	`sync` text NOT NULL,
	`key` text NOT NULL,
	`quo_id` text NOT NULL,
	`hash` text NOT NULL,
	`fields` text NOT NULL,
	`item_ids` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`sync`, `key`)
);
--> statement-breakpoint
CREATE INDEX `contacts_quo_id` ON `contacts` (`quo_id`);--> statement-breakpoint
CREATE TABLE `journal` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sync` text NOT NULL,
	`key` text NOT NULL,
	`op` text NOT NULL,
	`quo_id` text,
	`external_id` text NOT NULL,
	`fields` text,
	`run_id` integer,
	`started_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `journal_sync` ON `journal` (`sync`);--> statement-breakpoint
CREATE TABLE `rejections` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`key` text,
	`row` integer NOT NULL,
	`field` text,
	`value` text,
	`reason` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rejections_run` ON `rejections` (`run_id`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sync` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`outcome` text NOT NULL,
	`counts` text,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `runs_sync_started` ON `runs` (`sync`,`started_at`);