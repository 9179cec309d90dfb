CREATE TABLE `pending_checks` (
	`sync` text NOT NULL,
	`key` text NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`sync`, `key`)
);
