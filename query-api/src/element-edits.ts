import type { ConfigFile } from '@oncall/shared/config-file';
import { routingUsing, type Written } from './config-issues.js';
import { AlreadyExists, FailedPrecondition, NotFound } from './errors.js';

/**
 * The edits of the file model behind the policy and template writes. Each changes one element
 * and returns where it now is (null for a removal), or throws the API's error for the state it
 * finds: ALREADY_EXISTS, NOT_FOUND, FAILED_PRECONDITION while routing names what is removed.
 */
export type ElementEdit = (file: ConfigFile) => Written | null;

type Section = Written['section'];
type ElementOf<S extends Section> = ConfigFile[S][number];

const WHAT: Record<Section, string> = { escalationPolicies: 'escalation policy', templates: 'template' };
const ROUTING_KEY = { escalationPolicies: 'escalationPolicy', templates: 'template' } as const;

const list = (file: ConfigFile, section: Section): Array<{ id: string }> => file[section];

export const createElement =
  <S extends Section>(section: S, element: ElementOf<S>, field: Written['field']): ElementEdit =>
  (file) => {
    const items = list(file, section);
    if (items.some((e) => e.id === element.id)) throw new AlreadyExists(`${WHAT[section]} ${element.id} already exists`);
    items.push(element);
    return { section, at: items.length - 1, field };
  };

export const replaceElement =
  <S extends Section>(section: S, element: ElementOf<S>, field: Written['field']): ElementEdit =>
  (file) => {
    const items = list(file, section);
    const at = items.findIndex((e) => e.id === element.id);
    if (at < 0) throw new NotFound(`${WHAT[section]} ${element.id} not found`);
    items[at] = element;
    return { section, at, field };
  };

export const removeElement =
  (section: Section, id: string): ElementEdit =>
  (file) => {
    const items = list(file, section);
    const at = items.findIndex((e) => e.id === id);
    if (at < 0) throw new NotFound(`${WHAT[section]} ${id} not found`);
    const services = routingUsing(file, ROUTING_KEY[section], id);
    if (services.length > 0)
      throw new FailedPrecondition(`${WHAT[section]} ${id} is used by the routing of ${services.map((s) => `service ${s}`).join(', ')}`);
    items.splice(at, 1);
    return null;
  };
