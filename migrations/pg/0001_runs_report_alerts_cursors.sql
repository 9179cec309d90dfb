CREATE TABLE "alert_states" (
	"sync" text PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"since" bigint NOT NULL,
	"last_event" text,
	"last_sent_at" bigint,
	"run_id" integer,
	"version" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_cursors" (
	"sync" text PRIMARY KEY NOT NULL,
	"cursor" text,
	"full_at" bigint,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "trigger" text;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "report" text;