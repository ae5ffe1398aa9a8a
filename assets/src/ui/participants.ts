// The list of people in a room: colour dot, name, "(you)", an observer tag and a count.
import { safeColor } from "../editor/color";

/** One person in the room, as the sync client knows them. */
export interface Participant {
  peerId: number;
  name: string;
  color: string;
  role: "editor" | "observer";
  self: boolean;
}

function countText(people: readonly Participant[]): string {
  const observers = people.filter((p) => p.role === "observer").length;
  const total = `${people.length} ${people.length === 1 ? "person" : "people"}`;
  return observers > 0 ? `${total} · ${observers} observing` : total;
}

function participantItem(person: Participant): HTMLLIElement {
  const item = document.createElement("li");
  item.className = "pl-participant";
  item.dataset.peerId = String(person.peerId);
  item.dataset.role = person.role;
  const dot = item.appendChild(document.createElement("span"));
  dot.className = "pl-participant-dot";
  dot.setAttribute("aria-hidden", "true");
  dot.style.backgroundColor = safeColor(person.color, person.peerId);
  const name = item.appendChild(document.createElement("span"));
  name.className = "pl-participant-name";
  name.textContent = person.name;
  name.title = person.name;
  if (person.self) {
    const you = item.appendChild(document.createElement("span"));
    you.className = "pl-participant-you";
    you.textContent = "(you)";
  }
  if (person.role === "observer") {
    const tag = item.appendChild(document.createElement("span"));
    tag.className = "pl-participant-tag";
    tag.textContent = "observer";
  }
  return item;
}

/**
 * Renders `people` into `container`, replacing what was there: yourself first, then
 * editors, then observers, each group in the given order.
 */
export function renderParticipants(container: HTMLElement, people: Participant[]): void {
  const rank = (p: Participant): number => (p.self ? 0 : p.role === "editor" ? 1 : 2);
  const ordered = people.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i);
  container.classList.add("pl-participants");
  const count = document.createElement("p");
  count.className = "pl-participants-count";
  count.textContent = countText(people);
  const list = document.createElement("ul");
  list.className = "pl-participants-list";
  list.setAttribute("aria-label", "People in this room");
  for (const { p } of ordered) list.appendChild(participantItem(p));
  container.dataset.count = String(people.length);
  container.replaceChildren(count, list);
}
