/**
 * The gallery's label filter (browser code, bundled into gallery.ts's script): the labels found so
 * far as chips with their counts (GET /labels), and a search box for one or more labels
 * ("dog, person": photos with all of them). Pressing a chip adds its label to the filter, pressing
 * it again takes it out; "All photos" clears it. The gallery asks `listUrl()` for the photos to show
 * and calls `refresh()` with each refresh; a refusal of the API (an unknown label) is shown as it
 * says it. State lives in the closure of createLabelFilter, so this module has none of its own.
 * The chips reload when a photo this page uploaded is tagged or Refresh is pressed, and at most once
 * a minute otherwise (GET /labels costs 80 listings on S3).
 */
import type { LabelCount } from '../labels/countLabels';
import { byId } from './galleryDom';

interface LabelsAnswer {
  labels: LabelCount[];
}

export interface LabelFilter {
  /** The photo list to fetch: the recent ones, or those with every selected label. */
  listUrl(limit: number): string;
  /** The heading of the list. */
  title(): string;
  /** Whether a label is selected. */
  filtered(): boolean;
  /** Shows the API's refusal of the current filter (or clears it with null). */
  showProblem(message: string | null): void;
  /** Forgets the chips and the selection (signed out: they were someone's). */
  clear(): void;
  /**
   * Reloads the chips: at once with `now` (a photo was just tagged, Refresh was pressed), else at
   * most once a minute — GET /labels makes 80 listings on S3, and the gallery refreshes every 15 s.
   */
  refresh(now?: boolean): Promise<void>;
}

const LABELS_EVERY_MS = 60_000;

/** `request`: how the API is asked (the gallery's, with the caller's key or token). */
export function createLabelFilter(onChange: () => void, request: (path: string, init?: RequestInit) => Promise<Response>): LabelFilter {
  const chips = byId<HTMLFieldSetElement>('label-chips');
  const form = byId<HTMLFormElement>('label-search');
  const box = byId<HTMLInputElement>('label-query');
  const names = byId<HTMLDataListElement>('label-names');
  const problem = byId<HTMLParagraphElement>('filter-problem');
  let selected: string[] = [];
  let counts: LabelCount[] = [];
  let loadedAt = Number.NEGATIVE_INFINITY;

  const select = (labels: string[]) => {
    selected = [...new Set(labels.map((l) => l.trim()).filter(Boolean))];
    box.value = selected.join(', ');
    render();
    onChange();
  };

  const chip = (text: string, pressed: boolean, onClick: () => void, label?: string) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'chip';
    button.textContent = text;
    button.setAttribute('aria-pressed', String(pressed));
    if (label !== undefined) button.dataset.label = label;
    button.addEventListener('click', onClick);
    return button;
  };

  function render(): void {
    const all = chip('All photos', selected.length === 0, () => select([]));
    const labelChips = counts.map(({ label, count, capped }) =>
      chip(
        `${label} ${count}${capped ? '+' : ''}`,
        selected.includes(label),
        () => select(selected.includes(label) ? selected.filter((l) => l !== label) : [...selected, label]),
        label,
      ),
    );
    chips.replaceChildren(all, ...labelChips);
    names.replaceChildren(
      ...counts.map(({ label }) => {
        const option = document.createElement('option');
        option.value = label;
        return option;
      }),
    );
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    select(box.value.split(','));
  });

  return {
    listUrl: (limit) =>
      selected.length ? `images?label=${selected.map(encodeURIComponent).join(',')}&limit=${limit}` : `images?limit=${limit}`,
    filtered: () => selected.length > 0,
    title: () => (selected.length ? `Photos with ${selected.join(' and ')}` : 'Recent photos'),
    clear() {
      selected = [];
      counts = [];
      loadedAt = Number.NEGATIVE_INFINITY;
      box.value = '';
      render();
    },
    showProblem(message) {
      problem.hidden = message === null;
      problem.textContent = message ?? '';
    },
    async refresh(now = false) {
      if (!now && Date.now() - loadedAt < LABELS_EVERY_MS) return;
      loadedAt = Date.now();
      try {
        const res = await request('labels', { headers: { accept: 'application/json' } });
        if (!res.ok) return;
        counts = ((await res.json()) as LabelsAnswer).labels;
        render();
      } catch {
        // keep the chips shown; the next refresh tries again
      }
    },
  };
}
