// Block Kit rules as Slack's servers enforce them (docs.slack.dev block, element and composition
// object references). Pure functions, so a unit test can check any renderer's output without a
// server. Errors read like Slack's own: `<problem> [json-pointer:/blocks/0/text/text]`.

export type Surface = 'message' | 'modal' | 'home';

export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  blockId: 255,
  actionId: 255,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  buttonAccessibilityLabel: 75,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  imageUrl: 3000,
  imageAltText: 2000,
  imageTitle: 2000,
  inputLabel: 2000,
  inputHint: 2000,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  selectOptions: 100,
  overflowOptions: 5,
  placeholder: 150,
  markdownText: 12_000,
  viewTitle: 24,
  viewButton: 24,
  callbackId: 255,
  privateMetadata: 3000,
} as const;

const BLOCK_TYPES = new Set([
  'actions', 'alert', 'card', 'carousel', 'container', 'context', 'context_actions', 'data_table',
  'divider', 'file', 'header', 'image', 'input', 'markdown', 'plan', 'rich_text', 'section', 'table',
  'task_card', 'video',
]);

// Elements a user can act on; each may carry an action_id.
const INTERACTIVE_ELEMENTS = new Set([
  'button', 'checkboxes', 'datepicker', 'datetimepicker', 'email_text_input', 'feedback_buttons',
  'file_input', 'icon_button', 'users_select', 'multi_users_select', 'static_select',
  'multi_static_select', 'conversations_select', 'multi_conversations_select', 'channels_select',
  'multi_channels_select', 'external_select', 'multi_external_select', 'number_input', 'overflow',
  'plain_text_input', 'radio_buttons', 'timepicker', 'url_text_input', 'workflow_button',
  'rich_text_input',
]);

const SECTION_ACCESSORIES = new Set([
  'button', 'checkboxes', 'datepicker', 'image', 'users_select', 'multi_users_select', 'static_select',
  'multi_static_select', 'conversations_select', 'multi_conversations_select', 'channels_select',
  'multi_channels_select', 'external_select', 'multi_external_select', 'overflow', 'radio_buttons',
  'timepicker', 'workflow_button',
]);

const ACTIONS_ELEMENTS = new Set([
  'button', 'checkboxes', 'datepicker', 'datetimepicker', 'users_select', 'multi_users_select',
  'static_select', 'multi_static_select', 'conversations_select', 'multi_conversations_select',
  'channels_select', 'multi_channels_select', 'external_select', 'multi_external_select', 'overflow',
  'radio_buttons', 'timepicker', 'workflow_button', 'rich_text_input', 'feedback_buttons', 'icon_button',
]);

const INPUT_ELEMENTS = new Set([
  'checkboxes', 'datepicker', 'datetimepicker', 'email_text_input', 'file_input', 'users_select',
  'multi_users_select', 'static_select', 'multi_static_select', 'conversations_select',
  'multi_conversations_select', 'channels_select', 'multi_channels_select', 'external_select',
  'multi_external_select', 'number_input', 'plain_text_input', 'radio_buttons', 'timepicker',
  'url_text_input', 'rich_text_input',
]);

const STATIC_OPTION_ELEMENTS = new Set(['static_select', 'multi_static_select', 'overflow', 'checkboxes', 'radio_buttons']);

type Json = Record<string, unknown>;

interface Walk {
  errors: string[];
  blockIds: Map<string, string>;
  actionIds: Map<string, string>;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(w: Walk, pointer: string, problem: string): void {
  w.errors.push(`${problem} [json-pointer:${pointer}]`);
}

function maxLength(w: Walk, pointer: string, value: unknown, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'string') {
    fail(w, pointer, 'must be a string');
    return;
  }
  if (value.length > max) fail(w, pointer, `must be less than ${max + 1} characters`);
}

function requiredString(w: Walk, pointer: string, value: unknown, max: number): void {
  if (value === undefined || value === null) {
    fail(w, pointer, 'missing required field');
    return;
  }
  maxLength(w, pointer, value, max);
  if (value === '') fail(w, pointer, 'must be more than 0 characters');
}

// A text object; `plainOnly` is where Slack accepts nothing but plain_text (labels, buttons, headers).
function textObject(w: Walk, pointer: string, value: unknown, max: number, plainOnly: boolean): void {
  if (value === undefined || value === null) {
    fail(w, pointer, 'missing required field');
    return;
  }
  if (!isObject(value)) {
    fail(w, pointer, 'must provide an object');
    return;
  }
  const type = value['type'];
  if (type !== 'plain_text' && type !== 'mrkdwn') {
    fail(w, `${pointer}/type`, `must be one of 'plain_text'${plainOnly ? '' : ", 'mrkdwn'"}`);
    return;
  }
  if (plainOnly && type !== 'plain_text') {
    fail(w, `${pointer}/type`, "must be 'plain_text'");
  }
  requiredString(w, `${pointer}/text`, value['text'], max);
  if (value['emoji'] !== undefined && type !== 'plain_text') {
    fail(w, `${pointer}/emoji`, "is only allowed on 'plain_text'");
  }
  if (value['verbatim'] !== undefined && type !== 'mrkdwn') {
    fail(w, `${pointer}/verbatim`, "is only allowed on 'mrkdwn'");
  }
}

function uniqueId(w: Walk, seen: Map<string, string>, field: string, pointer: string, value: unknown, max: number): void {
  if (value === undefined) return;
  maxLength(w, pointer, value, max);
  if (typeof value !== 'string') return;
  if (value === '') {
    fail(w, pointer, 'must be more than 0 characters');
    return;
  }
  const first = seen.get(value);
  if (first !== undefined) {
    fail(w, pointer, `duplicate ${field} '${value}' (first used at ${first})`);
  } else {
    seen.set(value, pointer);
  }
}

function confirmDialog(w: Walk, pointer: string, value: unknown): void {
  if (value === undefined) return;
  if (!isObject(value)) {
    fail(w, pointer, 'must provide an object');
    return;
  }
  textObject(w, `${pointer}/title`, value['title'], LIMITS.confirmTitle, true);
  textObject(w, `${pointer}/text`, value['text'], LIMITS.confirmText, false);
  textObject(w, `${pointer}/confirm`, value['confirm'], LIMITS.confirmButton, true);
  textObject(w, `${pointer}/deny`, value['deny'], LIMITS.confirmButton, true);
  style(w, `${pointer}/style`, value['style']);
}

function style(w: Walk, pointer: string, value: unknown): void {
  if (value !== undefined && value !== 'primary' && value !== 'danger') {
    fail(w, pointer, "must be one of 'primary', 'danger'");
  }
}

function option(w: Walk, pointer: string, value: unknown, plainOnly: boolean): void {
  if (!isObject(value)) {
    fail(w, pointer, 'must provide an object');
    return;
  }
  textObject(w, `${pointer}/text`, value['text'], LIMITS.optionText, plainOnly);
  maxLength(w, `${pointer}/value`, value['value'], LIMITS.optionValue);
  if (value['description'] !== undefined) {
    textObject(w, `${pointer}/description`, value['description'], LIMITS.optionDescription, true);
  }
  maxLength(w, `${pointer}/url`, value['url'], LIMITS.buttonUrl);
}

function options(w: Walk, pointer: string, value: unknown, max: number, plainOnly: boolean, required: boolean): void {
  if (value === undefined) {
    if (required) fail(w, pointer, 'missing required field');
    return;
  }
  if (!Array.isArray(value)) {
    fail(w, pointer, 'must provide an array');
    return;
  }
  if (value.length === 0) fail(w, pointer, 'must provide at least 1 item');
  if (value.length > max) fail(w, pointer, `no more than ${max} items allowed`);
  value.forEach((o, i) => option(w, `${pointer}/${i}`, o, plainOnly));
}

function imageElement(w: Walk, pointer: string, el: Json): void {
  if (el['image_url'] === undefined && el['slack_file'] === undefined) {
    fail(w, `${pointer}/image_url`, 'missing required field');
  }
  maxLength(w, `${pointer}/image_url`, el['image_url'], LIMITS.imageUrl);
  requiredString(w, `${pointer}/alt_text`, el['alt_text'], LIMITS.imageAltText);
}

/**
 * Whether `value` is a block or an element of a kind allowed here: an object whose `type` is a
 * string in `allowed`. Fails at the first problem, with `notAllowed(type)` for a type not in the set.
 */
function isOfType(w: Walk, pointer: string, value: unknown, allowed: Set<string>, notAllowed: (type: string) => string): value is Json & { type: string } {
  if (!isObject(value)) {
    fail(w, pointer, 'must provide an object');
    return false;
  }
  const type = value['type'];
  if (typeof type !== 'string') {
    fail(w, `${pointer}/type`, 'missing required field');
    return false;
  }
  if (!allowed.has(type)) {
    fail(w, `${pointer}/type`, notAllowed(type));
    return false;
  }
  return true;
}

function element(w: Walk, pointer: string, value: unknown, allowed: Set<string>, where: string): void {
  if (!isOfType(w, pointer, value, allowed, (type) => `element type '${type}' is not allowed in ${where}`)) return;
  const type = value.type;
  if (type === 'image') {
    imageElement(w, pointer, value);
    return;
  }
  if (INTERACTIVE_ELEMENTS.has(type)) {
    uniqueId(w, w.actionIds, 'action_id', `${pointer}/action_id`, value['action_id'], LIMITS.actionId);
  }
  confirmDialog(w, `${pointer}/confirm`, value['confirm']);
  if (value['placeholder'] !== undefined) {
    textObject(w, `${pointer}/placeholder`, value['placeholder'], LIMITS.placeholder, true);
  }
  if (type === 'button') {
    textObject(w, `${pointer}/text`, value['text'], LIMITS.buttonText, true);
    maxLength(w, `${pointer}/value`, value['value'], LIMITS.buttonValue);
    maxLength(w, `${pointer}/url`, value['url'], LIMITS.buttonUrl);
    maxLength(w, `${pointer}/accessibility_label`, value['accessibility_label'], LIMITS.buttonAccessibilityLabel);
    style(w, `${pointer}/style`, value['style']);
    return;
  }
  if (STATIC_OPTION_ELEMENTS.has(type)) {
    const isOverflow = type === 'overflow';
    const plainOnly = type !== 'checkboxes' && type !== 'radio_buttons';
    const hasGroups = value['option_groups'] !== undefined;
    options(w, `${pointer}/options`, value['options'], isOverflow ? LIMITS.overflowOptions : LIMITS.selectOptions, plainOnly, !hasGroups);
    if (isOverflow && Array.isArray(value['options']) && value['options'].length < 2) {
      fail(w, `${pointer}/options`, 'must provide at least 2 items');
    }
  }
}

function section(w: Walk, p: string, block: Json): void {
  const text = block['text'];
  const fields = block['fields'];
  if (text === undefined && fields === undefined) {
    fail(w, p, "must provide either 'text' or 'fields'");
  }
  if (text !== undefined) textObject(w, `${p}/text`, text, LIMITS.sectionText, false);
  if (fields !== undefined) {
    if (!Array.isArray(fields)) {
      fail(w, `${p}/fields`, 'must provide an array');
    } else {
      if (fields.length === 0) fail(w, `${p}/fields`, 'must provide at least 1 item');
      if (fields.length > LIMITS.sectionFields) fail(w, `${p}/fields`, `no more than ${LIMITS.sectionFields} items allowed`);
      fields.forEach((f, i) => textObject(w, `${p}/fields/${i}`, f, LIMITS.sectionFieldText, false));
    }
  }
  if (block['accessory'] !== undefined) {
    element(w, `${p}/accessory`, block['accessory'], SECTION_ACCESSORIES, 'a section accessory');
  }
}

function elementList(w: Walk, p: string, block: Json, max: number): unknown[] | undefined {
  const elements = block['elements'];
  if (elements === undefined) {
    fail(w, `${p}/elements`, 'missing required field');
    return undefined;
  }
  if (!Array.isArray(elements)) {
    fail(w, `${p}/elements`, 'must provide an array');
    return undefined;
  }
  if (elements.length === 0) fail(w, `${p}/elements`, 'must provide at least 1 item');
  if (elements.length > max) fail(w, `${p}/elements`, `no more than ${max} items allowed`);
  return elements;
}

function context(w: Walk, p: string, block: Json): void {
  const elements = elementList(w, p, block, LIMITS.contextElements);
  elements?.forEach((el, i) => {
    const ep = `${p}/elements/${i}`;
    if (isObject(el) && el['type'] === 'image') {
      imageElement(w, ep, el);
    } else {
      // Context text has no documented cap of its own; a section's 3000 is the practical ceiling.
      textObject(w, ep, el, LIMITS.sectionText, false);
    }
  });
}

function actions(w: Walk, p: string, block: Json): void {
  const elements = elementList(w, p, block, LIMITS.actionsElements);
  elements?.forEach((el, i) => element(w, `${p}/elements/${i}`, el, ACTIONS_ELEMENTS, 'an actions block'));
}

function header(w: Walk, p: string, block: Json): void {
  textObject(w, `${p}/text`, block['text'], LIMITS.headerText, true);
}

function image(w: Walk, p: string, block: Json): void {
  imageElement(w, p, block);
  if (block['title'] !== undefined) textObject(w, `${p}/title`, block['title'], LIMITS.imageTitle, true);
}

function input(w: Walk, p: string, block: Json): void {
  textObject(w, `${p}/label`, block['label'], LIMITS.inputLabel, true);
  if (block['hint'] !== undefined) textObject(w, `${p}/hint`, block['hint'], LIMITS.inputHint, true);
  if (block['element'] === undefined) {
    fail(w, `${p}/element`, 'missing required field');
  } else {
    element(w, `${p}/element`, block['element'], INPUT_ELEMENTS, 'an input block');
  }
}

function markdown(w: Walk, p: string, block: Json): void {
  requiredString(w, `${p}/text`, block['text'], LIMITS.markdownText);
}

function richText(w: Walk, p: string, block: Json): void {
  const elements = block['elements'];
  if (!Array.isArray(elements)) fail(w, `${p}/elements`, elements === undefined ? 'missing required field' : 'must provide an array');
}

function block(w: Walk, p: string, value: unknown): void {
  if (!isOfType(w, p, value, BLOCK_TYPES, (type) => `unsupported block type '${type}'`)) return;
  const type = value.type;
  uniqueId(w, w.blockIds, 'block_id', `${p}/block_id`, value['block_id'], LIMITS.blockId);
  switch (type) {
    case 'section': section(w, p, value); break;
    case 'header': header(w, p, value); break;
    case 'context': context(w, p, value); break;
    case 'actions': actions(w, p, value); break;
    case 'image': image(w, p, value); break;
    case 'input': input(w, p, value); break;
    case 'markdown': markdown(w, p, value); break;
    case 'rich_text': richText(w, p, value); break;
    default: break; // divider and the newer blocks: the type check is all we hold them to
  }
}

/**
 * Checks a `blocks` array the way chat.postMessage, chat.update, response_url and views do.
 * Returns Slack-style error strings; an empty array means Slack would accept the blocks.
 */
export function validateBlocks(blocks: unknown, surface: Surface = 'message'): string[] {
  const w: Walk = { errors: [], blockIds: new Map(), actionIds: new Map() };
  if (!Array.isArray(blocks)) {
    fail(w, '/blocks', 'must provide an array');
    return w.errors;
  }
  const max = surface === 'message' ? LIMITS.messageBlocks : LIMITS.viewBlocks;
  if (blocks.length > max) fail(w, '/blocks', `no more than ${max} items allowed`);
  blocks.forEach((b, i) => block(w, `/blocks/${i}`, b));
  return w.errors;
}

/** Checks a view (views.open / views.update / views.push / views.publish). */
export function validateView(view: unknown): string[] {
  const w: Walk = { errors: [], blockIds: new Map(), actionIds: new Map() };
  if (!isObject(view)) {
    fail(w, '/view', 'must provide an object');
    return w.errors;
  }
  const type = view['type'];
  if (type !== 'modal' && type !== 'home') {
    fail(w, '/view/type', "must be one of 'modal', 'home'");
    return w.errors;
  }
  if (type === 'modal') {
    textObject(w, '/view/title', view['title'], LIMITS.viewTitle, true);
    if (view['submit'] !== undefined) textObject(w, '/view/submit', view['submit'], LIMITS.viewButton, true);
    if (view['close'] !== undefined) textObject(w, '/view/close', view['close'], LIMITS.viewButton, true);
  }
  maxLength(w, '/view/callback_id', view['callback_id'], LIMITS.callbackId);
  maxLength(w, '/view/private_metadata', view['private_metadata'], LIMITS.privateMetadata);
  const errors = [...w.errors, ...validateBlocks(view['blocks'], type)];
  return errors.map((e) => e.replace('[json-pointer:/blocks', '[json-pointer:/view/blocks'));
}
