/**
 * Whether to read a zone's pools name by name or to list the whole zone (issue 10), one rule for
 * every API provider: by name while the reads are few (a big zone with one or two pools is not
 * paged through), the whole zone once the by-name reads would outnumber the pages the zone's last
 * whole listing took. Before any listing, `few` by-name reads is the threshold.
 */
export class ZoneListingChoice {
  #pages: number | undefined;

  constructor(private readonly few: number) {}

  /** True when listing the whole zone should take fewer requests than `byName` reads. */
  wholeZone(byName: number): boolean {
    return this.#pages === undefined ? byName > this.few : this.#pages < byName;
  }

  /** How many pages the zone's last whole listing took. */
  learned(pages: number): void {
    this.#pages = pages;
  }
}
