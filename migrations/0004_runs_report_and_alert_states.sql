CREATE TABLE `alert_states` (
	`sync` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`since` integer NOT NULL,
	`last_event` text,
	`last_sent_at` integer,
	`run_id` integer,
	`version` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `runs` ADD `trigger` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `report` text;