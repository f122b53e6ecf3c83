/**
 * Which episodes an environment plays, so that a batch of environments shares one stream of
 * episodes: an environment plays episodes firstEpisode, firstEpisode + stride, ...; a batch
 * of `stride` environments with firstEpisode 0 .. stride − 1 thus covers episodes 0, 1, 2, ...
 * whatever the batch size. The episode number is what picks the task (and any seeded draws),
 * so episode e is the same whichever environment of the batch plays it.
 */
export interface EpisodeStream {
  /** Default 0. */
  firstEpisode?: number;
  /** Default 1. */
  stride?: number;
}

export class EpisodeNumbers {
  private next: number;
  private readonly stride: number;

  constructor(stream: EpisodeStream) {
    this.next = stream.firstEpisode ?? 0;
    this.stride = stream.stride ?? 1;
  }

  /** The number of the episode to play next. */
  take(): number {
    const episode = this.next;
    this.next += this.stride;
    return episode;
  }
}
