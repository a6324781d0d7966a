/**
 * The shred workflow's contract. Once an archived session's workflow has closed, a small workflow
 * (its payloads under the namespace key) destroys the session's data key. Its id: workflow-ids.ts.
 */

export interface ShredInput {
  /** The session's workflow id: its key is destroyed once that workflow has closed. */
  sessionWorkflowId: string;
}
