// Who you are in a room: a name and a colour, asked once in a modal dialog and
// remembered in localStorage.
import { isHexColor, readableTextOn } from "../editor/color";

/** The name and colour others see on your cursor and in the participant list. */
export interface Identity {
  name: string;
  color: string;
}

const NAME_KEY = "pairline.name";
const COLOR_KEY = "pairline.color";
const MAX_NAME = 64;

/** Colours that read well as label backgrounds (with white or dark text) in both themes. */
export const PALETTE: readonly { color: string; name: string }[] = [
  { color: "#c92a2a", name: "Red" },
  { color: "#f08c00", name: "Orange" },
  { color: "#2b7a3b", name: "Green" },
  { color: "#74b816", name: "Lime" },
  { color: "#0b7285", name: "Teal" },
  { color: "#339af0", name: "Sky" },
  { color: "#4263eb", name: "Blue" },
  { color: "#7048e8", name: "Violet" },
  { color: "#9c36b5", name: "Purple" },
  { color: "#c2255c", name: "Pink" },
];

/** A colour from the palette, picked at random. */
export function randomColor(): string {
  return PALETTE[Math.floor(Math.random() * PALETTE.length)]?.color ?? "#4263eb";
}

/** The problem with a name, or null when it is fine (1-64 characters after trimming). */
export function nameProblem(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return "Please enter a name.";
  if (trimmed.length > MAX_NAME) return `Please use at most ${MAX_NAME} characters (this one has ${trimmed.length}).`;
  return null;
}

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** The remembered identity, or null when no valid name is stored. */
export function storedIdentity(): Identity | null {
  const name = read(NAME_KEY);
  if (name === null || nameProblem(name) !== null) return null;
  const color = read(COLOR_KEY);
  return { name: name.trim(), color: color !== null && isHexColor(color) ? color : randomColor() };
}

function remember(identity: Identity): void {
  try {
    localStorage.setItem(NAME_KEY, identity.name);
    localStorage.setItem(COLOR_KEY, identity.color);
  } catch {
    // storage blocked: asked again next time
  }
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  created.className = className;
  if (text !== undefined) created.textContent = text;
  return created;
}

function colorChoices(selected: string): HTMLFieldSetElement {
  const fieldset = element("fieldset", "pl-identity-colors");
  fieldset.appendChild(element("legend", "", "Your colour"));
  const swatches = element("div", "pl-swatches");
  for (const { color, name } of PALETTE) {
    const choice = element("label", "pl-swatch");
    choice.title = name;
    const radio = element("input", "visually-hidden");
    radio.type = "radio";
    radio.name = "color";
    radio.value = color;
    radio.checked = color === selected;
    const sample = element("span", "pl-swatch-sample", "Aa");
    sample.style.backgroundColor = color;
    sample.style.color = readableTextOn(color);
    choice.append(radio, sample, element("span", "visually-hidden", name));
    swatches.appendChild(choice);
  }
  fieldset.appendChild(swatches);
  return fieldset;
}

function identityForm(start: Identity): { form: HTMLFormElement; nameInput: HTMLInputElement; message: HTMLElement } {
  const form = element("form", "pl-identity-form");
  form.method = "dialog";
  form.noValidate = true;
  const heading = element("h2", "pl-identity-title", "Join the room");
  heading.id = "pl-identity-title";
  const hint = element("p", "pl-identity-hint", "Others see this name and colour on your cursor.");
  const nameLabel = element("label", "pl-identity-name", "Your name");
  const nameInput = element("input", "");
  nameInput.type = "text";
  nameInput.name = "name";
  nameInput.setAttribute("autocomplete", "nickname");
  nameInput.required = true;
  nameInput.value = start.name;
  nameInput.setAttribute("aria-describedby", "pl-identity-message");
  nameLabel.appendChild(nameInput);
  const message = element("p", "pl-identity-message");
  message.id = "pl-identity-message";
  message.setAttribute("aria-live", "polite");
  const submit = element("button", "primary", "Join");
  submit.type = "submit";
  form.append(heading, hint, nameLabel, message, colorChoices(start.color), submit);
  return { form, nameInput, message };
}

/**
 * Asks for a name and colour in a modal dialog and resolves with them once submitted;
 * the answer is remembered. Starts from `initial`, else the stored identity, else a
 * random colour. The dialog cannot be dismissed without an answer.
 */
export function askIdentity(initial?: Identity): Promise<Identity> {
  const start = initial ?? storedIdentity() ?? { name: "", color: randomColor() };
  if (!isHexColor(start.color)) start.color = randomColor();
  const dialog = element("dialog", "pl-identity");
  dialog.setAttribute("aria-labelledby", "pl-identity-title");
  const { form, nameInput, message } = identityForm(start);
  dialog.appendChild(form);
  document.body.appendChild(dialog);

  return new Promise((resolve) => {
    let answered = false;
    const showProblem = (problem: string | null): void => {
      message.textContent = problem ?? "";
      nameInput.setAttribute("aria-invalid", problem === null ? "false" : "true");
    };
    nameInput.addEventListener("input", () => {
      if (nameInput.getAttribute("aria-invalid") === "true") showProblem(nameProblem(nameInput.value));
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const problem = nameProblem(nameInput.value);
      showProblem(problem);
      if (problem !== null) {
        nameInput.focus();
        return;
      }
      const checked = form.querySelector<HTMLInputElement>("input[name=color]:checked");
      const identity = { name: nameInput.value.trim(), color: checked?.value ?? start.color };
      remember(identity);
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(identity);
    });
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    dialog.addEventListener("close", () => {
      if (!answered) dialog.showModal(); // closed without an answer (e.g. Escape twice): ask again
    });
    dialog.showModal();
    nameInput.focus();
  });
}
