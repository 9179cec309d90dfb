CREATE TABLE `custom_field_bindings` (
	`sync` text NOT NULL,
	`config_name` text NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`sync`, `config_name`)
);
--> statement-breakpoint
CREATE TABLE `locks` (
	`sync` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`host` text NOT NULL,
	`pid` integer NOT NULL,
	`acquired_at` integer NOT NULL,
	`heartbeat_at` integer NOT NULL
);
