CREATE TABLE "contacts" (
	"sync" text NOT NULL,
	"key" text NOT NULL,
	"quo_id" text NOT NULL,
	"hash" text NOT NULL,
	"fields" text NOT NULL,
	"item_ids" text NOT NULL,
	"source_hash" text,
	"linked" integer DEFAULT 0 NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "contacts_sync_key_pk" PRIMARY KEY("sync","key")
);
--> statement-breakpoint
CREATE TABLE "custom_field_bindings" (
	"sync" text NOT NULL,
	"config_name" text NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "custom_field_bindings_sync_config_name_pk" PRIMARY KEY("sync","config_name")
);
--> statement-breakpoint
CREATE TABLE "journal" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "journal_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"sync" text NOT NULL,
	"key" text NOT NULL,
	"op" text NOT NULL,
	"quo_id" text,
	"external_id" text NOT NULL,
	"fields" text,
	"run_id" integer,
	"started_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "locks" (
	"sync" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"acquired_at" bigint NOT NULL,
	"heartbeat_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_slots" (
	"name" text PRIMARY KEY NOT NULL,
	"next_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rejections" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "rejections_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"run_id" integer NOT NULL,
	"key" text,
	"row" integer NOT NULL,
	"field" text,
	"value" text,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"sync" text NOT NULL,
	"started_at" bigint NOT NULL,
	"ended_at" bigint,
	"outcome" text NOT NULL,
	"counts" text,
	"error" text
);
--> statement-breakpoint
CREATE INDEX "contacts_quo_id" ON "contacts" USING btree ("quo_id");--> statement-breakpoint
CREATE INDEX "journal_sync" ON "journal" USING btree ("sync");--> statement-breakpoint
CREATE INDEX "rejections_run" ON "rejections" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "runs_sync_started" ON "runs" USING btree ("sync","started_at");