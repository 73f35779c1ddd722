// crossmodal-backfill --help

export const HELP = `Usage: npm run backfill -- <source> [options]      (or: crossmodal-backfill <source> [options])

Embeds every image of <source> with the embedder's batch endpoint and writes
the vectors to an index. Safe to stop and run again: it resumes, and it never
writes an item twice under two ids.

Source
  <directory>            every file below it, recursively; images are recognised by their
                         content (JPEG, PNG, WebP, GIF, TIFF, AVIF), not their name. Symbolic
                         links are followed, loops are not walked twice. A file that is no
                         image is passed over, unless its name says it is one (a text file
                         named .jpg is an error).
  <manifest.jsonl>       one JSON object a line: { "id"?, "path" | "url" | "text", "metadata"? };
                         relative paths are taken from the manifest's directory
  <urls.txt>             one image URL a line (blank lines and # comments are passed over)
  -                      a JSONL manifest on stdin

Target
  --target local         (default) the local index service (npm run index:serve)
  --target cloudflare    Cloudflare Vectorize through its REST API (CLOUDFLARE_ACCOUNT_ID,
                         CLOUDFLARE_API_TOKEN); the same code as local, another base URL
  --target worker        the search worker's admin API (POST /v1/items, ADMIN_TOKEN), so that
                         its cache stops serving results computed before the writes
  --target queue         the worker's backfill queue (POST /v1/backfill, ADMIN_TOKEN): the image
                         URLs of a manifest or URL list go to a Cloudflare Queue, up to 1000 a
                         request, and the worker's queue consumers fetch, embed and upsert them.
                         Nothing is downloaded or embedded here; files and texts fail (the worker
                         cannot read them). The checkpoint records what the worker queued.
  --index <name>         the Vectorize index (default crossmodal, or the one --index-url names)
  --index-url <url>      the local index: http://host:port[/client/v4], or a full index URL
                         .../client/v4/accounts/<account>/vectorize/v2/indexes/<name>
                         (default $INDEX_URL, else http://127.0.0.1:8791/client/v4)
  --worker-url <url>     the worker (default $WORKER_URL, else http://127.0.0.1:8787)
  --create-index         create a missing index with the embedder's dimensions and the
                         cosine metric (local, cloudflare)
  --metadata-index <property>:<string|number|boolean>
                         a metadata index to create before the first write (repeatable);
                         Vectorize filters only on indexed properties, and only for vectors
                         written after the index exists

Thumbnails
  --thumbnails           (--target worker only) send a WebP of each image with its item, at most
                         256 px on the long side (EXIF orientation applied, aspect kept, never
                         enlarged), for the worker to store in its THUMBNAILS R2 bucket and serve
                         at GET /v1/items/{id}/thumbnail. The other targets refuse it: a
                         Vectorize index holds no pictures, and the queue's consumer reads the
                         images itself. A worker without the bucket stops the run. A run with it
                         after one without sends every item again (a checkpoint of its own); one
                         without it after one with removes the thumbnails it sends over.

Embedding
  --embedder <url>       an embedder (repeatable, or comma-separated); requests go round-robin,
                         and one that fails is set aside while the others carry on
                         (default $EMBEDDER_URL, else http://127.0.0.1:8790)
  --batch-size <n>       images per embedder request (default 32, at most 256)
  --concurrency <n>      embedder requests in flight (default 4 per embedder), so that every
                         embedder's batcher stays full

Ids and metadata
  --id-from content      (default, not with --target queue) the first 32 hex characters of the
                         SHA-256 of the image's bytes (sha256sum | cut -c1-32); of "text:" and
                         the text for texts
  --id-from path         the path relative to the root (a manifest's path as written, or the
                         URL); one over 64 bytes becomes the first 32 hex characters of its
                         SHA-256. A manifest's "id" is used as given (at most 64 bytes).
  --id-from url          (default for --target queue) for a URL, the first 32 hex characters
                         of the SHA-256 of the URL normalised as new URL(url).href writes it,
                         without its #fragment; files and texts keep their content ids
  Metadata: source (the path relative to the root, or the URL), width and height (after EXIF
  rotation, read from the header), bytes, format; for texts, text and bytes; then the
  manifest's "metadata", which wins on a name clash; then model, the embedder's model.
  With --target queue: source and the manifest's "metadata"; the worker's consumer adds
  bytes and model, and no width, height or format. More than 10 KiB as JSON, or keys
  Vectorize refuses, make the item fail.

Resuming and errors
  --checkpoint <file>    what the target acknowledged, appended and fsynced after each write
                         (default .backfill/<source>-<hash>.checkpoint in the working
                         directory). Run the same command again after Ctrl-C, a crash or
                         kill -9: acknowledged items are skipped, nothing is lost.
                         Ctrl-C finishes the batches in flight and exits; a second Ctrl-C
                         exits at once (still resumable).
  --errors <file>        one JSON line per failed item with the reason (default: the
                         checkpoint's name with .errors.jsonl); rewritten each run, and a rerun
                         tries those items again
  --max-errors <n>       stop once more than n items have failed
  --dry-run              walk the source, sniff and count; write nothing, call nothing

Network failures, timeouts, 429 and 5xx from the embedder, the index, the worker or an
image URL are retried with exponential backoff and jitter (honouring Retry-After); a
batch refused because of one bad item is split so that the others still land.

Environment
  EMBEDDER_URL, EMBEDDER_TOKEN      the embedder(s) and their bearer token
  INDEX_URL, INDEX_TOKEN            the local index and its bearer token (if it has one)
  CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN
                                    --target cloudflare; CLOUDFLARE_BASE_URL (or
                                    CLOUDFLARE_API_BASE_URL) replaces the API's address
  WORKER_URL, ADMIN_TOKEN           --target worker and --target queue
  BACKFILL_LOG_INTERVAL_MS          how often a progress line is logged when stderr is not a
                                    terminal (default 5000)

Exit status
  0    every item was indexed, skipped as already indexed, or recorded in the errors file
  1    the run stopped: a service failed for too long, bad credentials, a missing index, ...
  2    bad arguments
  3    more than --max-errors items failed
  130  interrupted (Ctrl-C, SIGTERM); run the same command again to resume
Every failure ends with a one-line reason on stderr.

Examples
  npm run backfill -- ~/Pictures --create-index --metadata-index format:string
  npm run backfill -- photos.jsonl --target cloudflare --index photos --embedder http://gpu1:8790 --embedder http://gpu2:8790
  find /srv/img -name '*.jpg' | jq -Rc '{path: .}' | npm run backfill -- - --id-from path
  npm run backfill -- urls.txt --target queue --worker-url https://search.example.workers.dev
`;
