// IndexedDB persistence of a room's document for the sync worker, so that a reload
// (even offline) keeps everything, including edits the server has not acknowledged.
//
// Per room: a saved document (`snapshots`), the incremental chunks saved since
// (`chunks`), the watermark (`marks`), and the own changes not yet acknowledged
// (`unacked`). Writes are queued and run one after another in order, so a watermark
// is never stored before the changes it covers.

const DB_NAME = "pairline";
const DB_VERSION = 1;
/** How long to wait for another worker of the same room to let go of it. */
const LOCK_WAIT_MS = 1_500;

export interface StoredRoom {
  /** The saved document followed by incremental chunks, in order (load each in turn). */
  parts: Uint8Array[];
  syncedSeq: number;
  unacked: { key: number; hash: string; bytes: Uint8Array }[];
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("the IndexedDB transaction was aborted"));
  });
}

function open(): Promise<IDBDatabase> {
  const req = indexedDB.open(DB_NAME, DB_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    db.createObjectStore("snapshots");
    db.createObjectStore("marks");
    db.createObjectStore("chunks", { autoIncrement: true }).createIndex("room", "room");
    db.createObjectStore("unacked", { autoIncrement: true }).createIndex("room", "room");
  };
  return request(req);
}

/**
 * Takes the room's Web Lock for the worker's lifetime, so that only one tab at a time
 * writes a room's state (two would overwrite each other's watermark and compactions).
 * Waits a moment for it (a reloading page's old worker may still hold it); false if
 * another tab keeps it.
 */
function holdRoomLock(room: string): Promise<boolean> {
  const locks = (self as unknown as { navigator: Navigator }).navigator.locks;
  if (!locks) return Promise.resolve(true);
  const giveUp = new AbortController();
  const timer = setTimeout(() => giveUp.abort(), LOCK_WAIT_MS);
  return new Promise((resolve) => {
    locks
      .request(`pairline-room-${room}`, { signal: giveUp.signal }, () => {
        clearTimeout(timer);
        resolve(true);
        return new Promise<void>(() => {}); // held until the worker ends
      })
      .catch(() => resolve(false));
  });
}

/** One room's stored state. Falls back to memory only if IndexedDB is unavailable. */
export class RoomStore {
  private queue: Promise<unknown> = Promise.resolve();
  private chunkCount = 0;

  private constructor(
    private readonly db: IDBDatabase | null,
    private readonly room: string,
  ) {}

  static async open(room: string): Promise<RoomStore> {
    if (!(await holdRoomLock(room))) {
      console.info("this room is open in another tab, which keeps it on this device; this tab keeps it in memory");
      return new RoomStore(null, room);
    }
    try {
      return new RoomStore(await open(), room);
    } catch (err) {
      console.warn("IndexedDB is unavailable; unsynced edits will not survive a reload", err);
      return new RoomStore(null, room);
    }
  }

  /** Chunks written since the last snapshot (a hint for compaction). */
  get chunksSinceSnapshot(): number {
    return this.chunkCount;
  }

  async load(): Promise<StoredRoom> {
    if (!this.db) return { parts: [], syncedSeq: 0, unacked: [] };
    const tx = this.db.transaction(["snapshots", "marks", "chunks", "unacked"], "readonly");
    const range = IDBKeyRange.only(this.room);
    const [snapshot, mark, chunks, unackedKeys, unacked] = await Promise.all([
      request(tx.objectStore("snapshots").get(this.room)) as Promise<Uint8Array | undefined>,
      request(tx.objectStore("marks").get(this.room)) as Promise<number | undefined>,
      request(tx.objectStore("chunks").index("room").getAll(range)) as Promise<{ bytes: Uint8Array }[]>,
      request(tx.objectStore("unacked").index("room").getAllKeys(range)),
      request(tx.objectStore("unacked").index("room").getAll(range)) as Promise<{ hash: string; bytes: Uint8Array }[]>,
    ]);
    this.chunkCount = chunks.length;
    return {
      parts: [...(snapshot ? [snapshot] : []), ...chunks.map((c) => c.bytes)],
      syncedSeq: mark ?? 0,
      unacked: unacked.map((u, i) => ({ key: unackedKeys[i] as number, hash: u.hash, bytes: u.bytes })),
    };
  }

  /** Appends a chunk of the document (and an own change, if any) with the new watermark. */
  append(chunk: Uint8Array | null, syncedSeq: number, own?: { hash: string; bytes: Uint8Array }): Promise<number | null> {
    if (chunk && chunk.length > 0) this.chunkCount += 1;
    return this.write(["chunks", "marks", "unacked"], (tx) => {
      if (chunk && chunk.length > 0) tx.objectStore("chunks").add({ room: this.room, bytes: chunk });
      tx.objectStore("marks").put(syncedSeq, this.room);
      return own ? request(tx.objectStore("unacked").add({ room: this.room, ...own })) as Promise<number> : null;
    });
  }

  /** Forgets acknowledged own changes and stores the watermark. */
  acknowledge(keys: number[], syncedSeq: number): Promise<void | null> {
    return this.write(["unacked", "marks"], (tx) => {
      for (const key of keys) tx.objectStore("unacked").delete(key);
      tx.objectStore("marks").put(syncedSeq, this.room);
    });
  }

  /** Replaces the snapshot and every chunk with one saved document. */
  compact(saved: Uint8Array, syncedSeq: number): Promise<void | null> {
    this.chunkCount = 0;
    return this.write(["snapshots", "chunks", "marks"], async (tx) => {
      tx.objectStore("snapshots").put(saved, this.room);
      tx.objectStore("marks").put(syncedSeq, this.room);
      const chunks = tx.objectStore("chunks");
      const keys = await request(chunks.index("room").getAllKeys(IDBKeyRange.only(this.room)));
      for (const key of keys) chunks.delete(key);
    });
  }

  /** Resolves once every write queued so far is committed. */
  flush(): Promise<unknown> {
    return this.queue;
  }

  private write<T>(stores: string[], body: (tx: IDBTransaction) => T | Promise<T>): Promise<Awaited<T> | null> {
    const db = this.db;
    const run = async (): Promise<Awaited<T> | null> => {
      if (!db) return null;
      const tx = db.transaction(stores, "readwrite");
      const result = body(tx);
      await done(tx);
      return await result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch((err) => console.error("saving the room in IndexedDB failed", err));
    return next;
  }
}
