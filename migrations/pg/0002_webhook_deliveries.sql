CREATE TABLE "webhook_deliveries" (
	"source" text NOT NULL,
	"id" text NOT NULL,
	"received_at" bigint NOT NULL,
	CONSTRAINT "webhook_deliveries_source_id_pk" PRIMARY KEY("source","id")
);
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_received_at" ON "webhook_deliveries" USING btree ("received_at");